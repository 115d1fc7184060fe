/**
 * Several server processes behind a round-robin client, sharing the machine's PostgreSQL (a schema of the test's
 * own) and Redis: a verification started on one node is checked on another while a third streams its events, a
 * node is killed with SIGKILL mid-run, and afterwards every verification started has ended, none was verified twice,
 * and no caller ID was leased to two live verifications. Prints its counts. Skipped with a notice without
 * PostgreSQL or Redis, unless CI requires them.
 */
import { afterAll, describe, expect, it } from "vitest";
import { POSTGRES_URL, postgresAvailable, testSchema } from "./support/postgres.js";
import { REDIS_URL, redisAvailable } from "./support/redis.js";
import { type ServerProcess, spawnServer } from "./support/server-process.js";
import { TEST_FRAUD_SETTINGS } from "./support/test-app.js";

const KEY = "fv_multi_node_key_0123456789";
const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
const available = postgresAvailable() && redisAvailable();
const nodes: ServerProcess[] = [];
afterAll(() => {
  for (const node of nodes) node.child.kill("SIGKILL");
});

/** The JSON body, with the HTTP status as `http`. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
async function json(url: string, init?: RequestInit): Promise<Record<string, any>> {
  const response = await fetch(url, init);
  return { http: response.status, ...((await response.json()) as Record<string, unknown>) };
}

/**
 * Opens an SSE stream; `opened` resolves once the server has sent the opening `state` (so whatever commits after it
 * must arrive as an event), `types` with the event types seen up to the verification's final event.
 */
function streamUntilFinal(url: string): { opened: Promise<void>; types: Promise<string[]> } {
  let markOpened: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    markOpened = resolve;
  });
  const types = (async () => {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${KEY}` },
      signal: AbortSignal.timeout(20_000),
    });
    const seen: string[] = [];
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const type = /^event: (.+)$/m.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 2);
        if (type === "state") markOpened();
        if (type) seen.push(type);
        if (type === "verification.verified" || type === "verification.expired" || type === "verification.failed") {
          return seen;
        }
      }
    }
    return seen;
  })();
  // A stream that fails before its state must not leave the round waiting on `opened`.
  types.then(markOpened, markOpened);
  return { opened, types };
}

describe.skipIf(!available)("three nodes on PostgreSQL and Redis", () => {
  it("start on one, check on another, stream on a third; a node killed mid-run loses nothing", async () => {
    const schema = await testSchema();
    const env = (n: number) => ({
      ...TEST_FRAUD_SETTINGS,
      DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema.name}`)}`,
      REDIS_URL,
      FLASHVERIFY_API_KEY: KEY,
      FLASHVERIFY_SECRET: "multi-node-secret-multi-node-secret-0123",
      SANDBOX_SIP_ADDRESS: `127.0.0.${91 + n}`,
      SANDBOX_SIP_PORT: "0",
      SANDBOX_SMPP_PORT: "0",
      SANDBOX_SMTP_PORT: "0",
      SIP_RING_TIME_MS: "200",
      SIP_T1_MS: "20",
      SIP_MAX_DIAL_MS: "1000",
      // Short lives, so that what the killed node left behind ends within the test.
      FLASHCALL_TTL_SECONDS: "10",
      VERIFICATION_TTL_SECONDS: "10",
      TIMER_INTERVAL_MS: "100",
      OVERLOAD_MAX_LAG_MS: "0",
    });
    try {
      nodes.push(await spawnServer(env(0)));
      nodes.push(...(await Promise.all([spawnServer(env(1)), spawnServer(env(2))])));
      const urls = nodes.map((node) => node.url);
      const counts = { started: 0, verified_on_other_node: 0, streamed_on_third_node: 0, started_before_kill: 0 };
      const clis = new Map<string, string>();
      const ids: string[] = [];

      const round = async (i: number, live: string[]) => {
        const [a, b, c] = [live[i % live.length], live[(i + 1) % live.length], live[(i + 2) % live.length]] as string[];
        const phone = `+4474001900${String(i).padStart(2, "0")}`;
        const started = await json(`${a}/v1/verifications`, {
          method: "POST",
          headers,
          body: JSON.stringify({ phone }),
        });
        expect(started.http).toBe(201);
        counts.started++;
        ids.push(started.id);
        const stream = streamUntilFinal(`${c}/v1/verifications/${started.id}/stream`);
        // The stream is open before the check on another node, so the verdict must reach it as a fanned-out event.
        await stream.opened;
        let cli: string | undefined;
        for (let tries = 0; tries < 200 && !cli; tries++) {
          const phoneView = await json(`${a}/sandbox/phones/${encodeURIComponent(phone)}`);
          cli = (phoneView.calls as { from: string }[])[0]?.from;
          if (!cli) await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect(cli).toBeDefined();
        clis.set(started.id, cli as string);
        const checked = await json(`${b}/v1/verifications/${started.id}/check`, {
          method: "POST",
          headers,
          body: JSON.stringify({ caller_id: cli }),
        });
        expect(checked).toMatchObject({ http: 200, status: "verified" });
        counts.verified_on_other_node++;
        const types = await stream.types;
        expect(types.at(-1)).toBe("verification.verified");
        counts.streamed_on_third_node++;
      };

      // Ten rounds on three nodes, ten more on the two left after one is killed mid-run.
      await Promise.all(Array.from({ length: 10 }, (_, i) => round(i, urls)));
      counts.started_before_kill = counts.started;
      // A call in flight on the node that dies: its verification must still end.
      const orphan = await json(`${urls[2]}/v1/verifications`, {
        method: "POST",
        headers,
        body: JSON.stringify({ phone: "+447400190999" }),
      });
      nodes[2]?.child.kill("SIGKILL");
      await nodes[2]?.exited;
      ids.push(orphan.id);
      await Promise.all(Array.from({ length: 10 }, (_, i) => round(10 + i, urls.slice(0, 2))));

      // Every verification ends, the orphan too (by its TTL, on a surviving node's timers).
      const deadline = Date.now() + 30_000;
      let pending = ids;
      while (pending.length > 0 && Date.now() < deadline) {
        const views = await Promise.all(pending.map((id) => json(`${urls[0]}/v1/verifications/${id}`, { headers })));
        pending = pending.filter((_, i) => views[i]?.status === "pending");
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const finals = await Promise.all(ids.map((id) => json(`${urls[1]}/v1/verifications/${id}`, { headers })));
      const byStatus = finals.reduce<Record<string, number>>((acc, v) => {
        acc[v.status] = (acc[v.status] ?? 0) + 1;
        return acc;
      }, {});
      // Two verifications may show the same CLI only one after the other (a released lease is free again); a CLI
      // shared by two verifications that were live at once would let one code verify the other's number.
      const lives = finals.flatMap((v) => {
        const cli = clis.get(v.id);
        return cli ? [{ id: v.id, cli, from: Date.parse(v.created_at), to: Date.parse(v.updated_at) }] : [];
      });
      const sharedWhileLive = lives.flatMap((a) =>
        lives.filter((b) => a.id < b.id && a.cli === b.cli && a.from < b.to && b.from < a.to).map((b) => [a.id, b.id]),
      );
      const distinct = new Set(clis.values()).size;
      console.log("multi-node:", JSON.stringify({ ...counts, distinct_clis: distinct, final: byStatus }));
      expect(pending).toEqual([]);
      expect(lives).toHaveLength(20);
      expect(sharedWhileLive).toEqual([]);
      expect(byStatus.verified).toBe(20);
      expect(byStatus.pending ?? 0).toBe(0);
    } finally {
      for (const node of nodes) {
        node.child.kill("SIGTERM");
        await node.exited;
      }
      await schema.drop();
    }
  }, 120_000);
});
