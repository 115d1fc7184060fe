/**
 * The fault suite (issue 24): two `serve` nodes on one PostgreSQL and one Redis behind HAProxy (docs/deploy.md's
 * configuration), a steady load of flash-call starts through the balancer, and a webhook receiver that verifies every
 * signature. One fault at a time: PostgreSQL restarted, Redis restarted, a node SIGKILLed and started again, a node
 * SIGTERMed and started again, a node SIGSTOPped for 15 s. For each it prints a table and asserts that no node
 * exited by itself, no answer was 500 and every 503 said when to retry, every verification ended by its deadline
 * (plus a few seconds) with its terminal webhook, terminal webhooks of a dead node arrived within 30 s, and no start
 * went ahead after its client gave up.
 *
 * PostgreSQL (initdb in a temporary folder), Redis and HAProxy are the suite's own processes on addresses and ports
 * of its own, stopped whatever happens. Skipped with a notice where a peer is missing, unless CI requires it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  haproxyAvailable,
  type PrivatePostgres,
  privatePostgresAvailable,
  startHaproxy,
  startPrivatePostgres,
  startRedisServer,
} from "./support/fault-rig.js";
import { commandExists, peerAvailable } from "./support/peers.js";
import { type ServerProcess, spawnServer } from "./support/server-process.js";
import { TEST_FRAUD_SETTINGS } from "./support/test-app.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

// A few minutes of two servers under load: part of `npm test` wherever its peers are (CI requires them);
// FLASHVERIFY_FAULT_SUITE=off leaves it out of a local run.
const wanted = process.env.FLASHVERIFY_FAULT_SUITE !== "off";
if (!wanted) console.warn("[skipped] the fault suite is off (FLASHVERIFY_FAULT_SUITE=off)");
const available =
  wanted &&
  peerAvailable("postgres", privatePostgresAvailable) &&
  peerAvailable("redis", () => commandExists("redis-server")) &&
  peerAvailable("haproxy", haproxyAvailable);

const KEY = "fv_faults_key_0123456789abcdef";
const BALANCER = "127.0.24.110:58000";
const NODE_ADDRESSES = ["127.0.24.111", "127.0.24.112"];
const NODE_PORTS = [58001, 58002];
/** starts per second through the balancer, and how long a client waits for its answer */
const RATE = 10;
const CLIENT_TIMEOUT_MS = 3000;
const TTL_S = 10;
/** how late after its deadline a verification may end (its terminal event's time) */
const SLACK_MS = 10_000;
/** how long after the last deadline the suite waits for terminal webhooks before it counts one lost */
const LOST_AFTER_MS = 60_000;
const TERMINAL = new Set([
  "verification.verified",
  "verification.expired",
  "verification.failed",
  "verification.canceled",
]);

interface Start {
  phone: string;
  sentAt: number;
  status: number | "gave_up";
  retryAfter: boolean;
  id?: string;
  expiresAt?: number;
  /** when the client gave up */
  gaveUpAt?: number;
}

interface Node {
  index: number;
  process: ServerProcess | null;
  /** exits this suite did not cause */
  unexpectedExits: number;
  expectingExit: boolean;
}

describe.skipIf(!available)("faults: two nodes behind HAProxy on PostgreSQL and Redis", () => {
  let postgres: PrivatePostgres;
  let redis: { url: string; stop(): Promise<void> } | undefined;
  let restartRedis: () => Promise<void>;
  let haproxy: { stop(): Promise<void> };
  let receiver: WebhookReceiver;
  const nodes: Node[] = NODE_ADDRESSES.map((_, index) => ({
    index,
    process: null,
    unexpectedExits: 0,
    expectingExit: false,
  }));
  const arrivals = new Map<string, number[]>(); // webhook-id -> arrival times
  let phoneCounter = 0;
  /** how long the receiver takes to answer: long enough, around a kill, that the node dies with webhooks in flight */
  let answerDelayMs = 0;
  const tables: Record<string, Record<string, number | string>> = {};

  const env = (i: number) => ({
    ...TEST_FRAUD_SETTINGS,
    HOST: NODE_ADDRESSES[i] as string,
    PORT: String(NODE_PORTS[i]),
    DATABASE_URL: postgres.url,
    REDIS_URL: "redis://127.0.24.110:56379",
    FLASHVERIFY_API_KEY: KEY,
    FLASHVERIFY_SECRET: "faults-secret-faults-secret-0123456789ab",
    SANDBOX_SIP_ADDRESS: NODE_ADDRESSES[i] as string,
    SANDBOX_SIP_PORT: "0",
    SANDBOX_SMPP_PORT: "0",
    SANDBOX_SMTP_PORT: "0",
    SIP_LOCAL_ADDRESS: NODE_ADDRESSES[i] as string,
    SIP_RING_TIME_MS: "200",
    SIP_T1_MS: "20",
    SIP_MAX_DIAL_MS: "1000",
    FLASHCALL_TTL_SECONDS: String(TTL_S),
    VERIFICATION_TTL_SECONDS: String(TTL_S),
    TIMER_INTERVAL_MS: "100",
    WEBHOOK_ALLOW_PRIVATE: "loopback",
    WEBHOOK_POLL_MS: "250",
    SHUTDOWN_DRAIN_MS: "3000",
    SHUTDOWN_GRACE_MS: "1000",
    // Starts refused for the machine's load (other suites share it) would hide what the faults do.
    OVERLOAD_MAX_LAG_MS: "0",
  });

  async function startNode(node: Node): Promise<void> {
    node.expectingExit = false;
    const process = await spawnServer(env(node.index), 120_000);
    node.process = process;
    void process.exited.then(() => {
      if (!node.expectingExit) node.unexpectedExits += 1;
      if (node.process === process) node.process = null;
    });
  }

  beforeAll(async () => {
    postgres = await startPrivatePostgres("127.0.24.110", 55432);
    redis = await startRedisServer("127.0.24.110", 56379);
    restartRedis = async () => {
      await redis?.stop();
      redis = undefined;
      await sleep(2000);
      redis = await startRedisServer("127.0.24.110", 56379);
    };
    receiver = await WebhookReceiver.start("127.0.24.115");
    const onRequest = receiver.answerFor;
    receiver.answerFor = (id) => {
      arrivals.set(id, [...(arrivals.get(id) ?? []), Date.now()]);
      return onRequest?.(id) ?? { status: 200, ...(answerDelayMs > 0 ? { delayMs: answerDelayMs } : {}) };
    };
    await startNode(nodes[0] as Node);
    await startNode(nodes[1] as Node);
    const created = await fetch(`http://${NODE_ADDRESSES[0]}:${NODE_PORTS[0]}/v1/webhook-endpoints`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ url: receiver.url }),
    });
    receiver.secrets = [((await created.json()) as { secret: string }).secret];
    haproxy = await startHaproxy(
      BALANCER,
      NODE_ADDRESSES.map((a, i) => `${a}:${NODE_PORTS[i]}`),
    );
  }, 300_000);

  afterAll(async () => {
    // Each step is bounded, so that one stuck peer does not keep the others running.
    const bounded = (what: string, work: Promise<unknown> | undefined) =>
      Promise.race([work, sleep(15_000).then(() => console.error(`fault suite: stopping ${what} took over 15 s`))]);
    for (const node of nodes) {
      node.expectingExit = true;
      node.process?.child.kill("SIGKILL");
      await bounded(`node ${node.index}`, node.process?.exited);
    }
    await bounded("haproxy", haproxy?.stop());
    await bounded("the webhook receiver", receiver?.close());
    await bounded("redis", redis?.stop());
    await bounded("postgres", postgres?.stop());
    console.log("fault suite:");
    console.table(tables);
  }, 90_000);

  async function start(url: string, timeoutMs = CLIENT_TIMEOUT_MS): Promise<Start> {
    phoneCounter += 1;
    const phone = `+4479${String(phoneCounter).padStart(8, "0")}`;
    const sentAt = Date.now();
    try {
      const response = await fetch(`${url}/v1/verifications`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ phone }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await response.json()) as { id?: string; expires_at?: string };
      return {
        phone,
        sentAt,
        status: response.status,
        retryAfter: response.headers.has("retry-after"),
        ...(body.id ? { id: body.id } : {}),
        ...(body.expires_at ? { expiresAt: Date.parse(body.expires_at) } : {}),
      };
    } catch {
      return { phone, sentAt, status: "gave_up", retryAfter: false, gaveUpAt: Date.now() };
    }
  }

  /** Starts at RATE per second through the balancer until `stop` resolves. */
  async function load(stop: Promise<unknown>): Promise<Start[]> {
    const sent: Promise<Start>[] = [];
    let done = false;
    void stop.then(() => {
      done = true;
    });
    while (!done) {
      sent.push(start(`http://${BALANCER}`));
      await sleep(1000 / RATE);
    }
    return Promise.all(sent);
  }

  /** How long until both nodes, asked directly, start verifications again. */
  async function bothServing(since: number): Promise<number> {
    for (;;) {
      const answers = await Promise.all(
        NODE_ADDRESSES.map((a, i) => start(`http://${a}:${NODE_PORTS[i]}`, 1000).then((s) => s.status === 201)),
      );
      if (answers.every(Boolean)) return Date.now() - since;
      if (Date.now() - since > 120_000) return Number.NaN;
      await sleep(200);
    }
  }

  function webhooksOf(type: (t: string) => boolean) {
    return receiver.received.filter((w) => type(w.json.type));
  }

  /** Waits for the terminal webhooks of `starts` (up to their deadline plus the slack), then tabulates the fault. */
  async function settle(name: string, starts: Start[], recoveredMs: number, faultAt: number, sentTwice: Set<string>) {
    const accepted = starts.filter((s) => s.status === 201 && s.id);
    const lastDeadline = Math.max(0, ...accepted.map((s) => s.expiresAt ?? 0));
    const terminalFor = () => new Map(webhooksOf((t) => TERMINAL.has(t)).map((w) => [w.json.data.verification_id, w]));
    while (Date.now() < lastDeadline + LOST_AFTER_MS) {
      const terminal = terminalFor();
      if (accepted.every((s) => terminal.has(s.id))) break;
      await sleep(250);
    }
    const terminal = terminalFor();
    const lost = accepted.filter((s) => !terminal.has(s.id));
    // When the verification ended (its terminal event), not when the webhook arrived (measured below).
    const lateTerminal = accepted.filter((s) => {
      const w = terminal.get(s.id);
      return !w || Date.parse(w.json.timestamp) > (s.expiresAt ?? 0) + SLACK_MS;
    });
    // How late the latest verification ended after its deadline (timers settle them; a stalled node's claims lapse).
    const latestEndMs = Math.max(
      0,
      ...accepted.map((s) => {
        const w = terminal.get(s.id);
        return w ? Date.parse(w.json.timestamp) - (s.expiresAt ?? 0) : 0;
      }),
    );
    let duplicated = 0;
    let latestDelayMs = 0;
    for (const s of accepted) {
      const w = terminal.get(s.id);
      if (!w) continue;
      const times = arrivals.get(String(w.headers["webhook-id"])) ?? [];
      if (times.length > 1) duplicated += 1;
      // The last arrival is the one that was answered: a node killed while waiting for the answer sent the first.
      latestDelayMs = Math.max(latestDelayMs, (times.at(-1) ?? 0) - Date.parse(w.json.timestamp));
    }
    // Webhooks of any type sent again since the fault (a dead or stalled node's claims taken over), and how long
    // after the fault the last of them arrived.
    const again = [...arrivals].filter(([id, times]) => times.length > 1 && !sentTwice.has(id));
    const latestAgainMs = Math.max(0, ...again.map(([, times]) => (times.at(-1) ?? 0) - faultAt));
    // A start that went ahead after its client gave up: its verification.started is later than the giving up.
    const startedAt = new Map(
      webhooksOf((t) => t === "verification.started").map((w) => [w.json.data.phone, Date.parse(w.json.timestamp)]),
    );
    const afterGivingUp = starts.filter(
      (s) => s.status === "gave_up" && (startedAt.get(s.phone) ?? 0) > (s.gaveUpAt ?? Infinity) + 100,
    );
    const count = (f: (s: Start) => boolean) => starts.filter(f).length;
    const row = {
      "starts sent": starts.length,
      "2xx": count((s) => typeof s.status === "number" && s.status < 300),
      "answered 503": count((s) => s.status === 503),
      "503 without Retry-After": count((s) => s.status === 503 && !s.retryAfter),
      "answered 500": count((s) => s.status === 500),
      "other 5xx": count((s) => typeof s.status === "number" && s.status > 500 && s.status !== 503),
      "client gave up": count((s) => s.status === "gave_up"),
      "terminal by deadline + 10 s": accepted.length - lateTerminal.length,
      "latest end after its deadline ms": latestEndMs,
      "terminal webhooks lost": lost.length,
      "terminal webhooks duplicated": duplicated,
      "latest terminal webhook delay ms": latestDelayMs,
      "webhooks sent again (any type)": again.length,
      "last one sent again, after the fault ms": latestAgainMs,
      "started after the client gave up": afterGivingUp.length,
      "process exits": nodes.reduce((n, node) => n + node.unexpectedExits, 0),
      "both nodes serving again after ms": recoveredMs,
    };
    tables[name] = row;
    console.log(name);
    console.table(row);
    return { row, lost, lateTerminal, afterGivingUp };
  }

  /** Runs the load around one fault; `fault` resolves when the fault is over. */
  async function around(name: string, fault: () => Promise<void>, receiverDelayMs = 0) {
    answerDelayMs = receiverDelayMs;
    const sentTwice = new Set([...arrivals].filter(([, times]) => times.length > 1).map(([id]) => id));
    let stopLoad: () => void = () => undefined;
    const loading = load(new Promise<void>((resolve) => (stopLoad = resolve)));
    await sleep(2000);
    const faultAt = Date.now();
    await fault();
    const over = Date.now();
    const recoveredMs = await bothServing(over);
    await sleep(2000);
    stopLoad();
    const starts = await loading;
    const outcome = await settle(name, starts, recoveredMs, faultAt, sentTwice);
    answerDelayMs = 0;
    const { row } = outcome;
    expect(row["process exits"]).toBe(0);
    expect(row["answered 500"]).toBe(0);
    expect(row["503 without Retry-After"]).toBe(0);
    expect(outcome.lost.map((s) => s.id)).toEqual([]);
    expect(outcome.lateTerminal.map((s) => s.id)).toEqual([]);
    expect(row["latest terminal webhook delay ms"]).toBeLessThan(30_000);
    expect(outcome.afterGivingUp.map((s) => s.phone)).toEqual([]);
    expect(row["2xx"]).toBeGreaterThan(0);
    expect(receiver.received.every((w) => w.verified === true)).toBe(true);
    return row;
  }

  it("restarting PostgreSQL: 503 with Retry-After while it is away, nothing lost, no node exits", async () => {
    await around("PostgreSQL restart", () => postgres.restart(2000));
  }, 300_000);

  it("restarting Redis: 503 with Retry-After while it is away, nothing lost", async () => {
    await around("Redis restart", () => restartRedis());
  }, 300_000);

  it("SIGKILL of a node and a restart: a survivor sends its webhooks within seconds", async () => {
    // The receiver answers in 600 ms, so the node dies with webhooks sent and unanswered, and more claimed.
    const row = await around(
      "SIGKILL + restart",
      async () => {
        const node = nodes[0] as Node;
        node.expectingExit = true;
        node.process?.child.kill("SIGKILL");
        await node.process?.exited;
        await sleep(1000);
        await startNode(node);
      },
      600,
    );
    // Its claims lapsed and another node sent them (the terminal ones' delay is asserted in `around`).
    expect(row["webhooks sent again (any type)"]).toBeGreaterThan(0);
    expect(row["last one sent again, after the fault ms"]).toBeLessThan(30_000);
  }, 300_000);

  it("SIGTERM of a node and a restart: it drains, the balancer routes around it", async () => {
    await around("SIGTERM + restart", async () => {
      const node = nodes[1] as Node;
      node.expectingExit = true;
      node.process?.child.kill("SIGTERM");
      await node.process?.exited;
      await startNode(node);
    });
  }, 300_000);

  it("SIGSTOP of a node for 15 s: it runs none of the starts its clients gave up on", async () => {
    await around("SIGSTOP 15 s", async () => {
      const child = nodes[0]?.process?.child;
      child?.kill("SIGSTOP");
      await sleep(15_000);
      child?.kill("SIGCONT");
    });
  }, 300_000);
});
