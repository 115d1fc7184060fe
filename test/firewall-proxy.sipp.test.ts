/**
 * The firewall's proxy between two SIPp instances (the interconnect's caller and the operator's core), over UDP and
 * over TCP, with each policy action: pass (a flash call: ring, CANCEL, 487; an ordinary call: answer, BYE; a call
 * challenged with 401 and placed again with credentials), tag (the core's SIPp checks the header), reject (the
 * caller's SIPp checks the 603 and its Reason; nothing reaches the core) and route (the call reaches the other next
 * hop only). Then fail open: the classifier dies mid-traffic and every call still completes.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { InviteVerdict, Verdict } from "../src/firewall/classifier.js";
import { FlashClassifier } from "../src/firewall/classifier.js";
import { type FirewallConfig, firewallConfigSchema } from "../src/firewall/config.js";
import { FirewallProxy } from "../src/firewall/proxy/proxy.js";
import { splitList } from "../src/sip/message.js";
import { expectScenarioPassed, headerValues, type SippResult, startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const available = peerAvailable("sipp", () => commandExists("sipp"));
const PROXY = "127.0.0.160";
const CALLER = "127.0.0.161";
const CORE = "127.0.0.162";
const OTHER_HOP = "127.0.0.163";
const SILENT = "127.0.0.164";
const CALLEE = "+447400123456";

const config = (policy: unknown[]): FirewallConfig => firewallConfigSchema.parse({ policy });
const received = (run: SippResult, method: string) =>
  run.messages.filter((m) => m.direction === "received" && m.startLine.startsWith(`${method} `));

/** A UDP socket and a TCP-less address that must receive nothing: where a rejected or re-routed call must not go. */
let silent: Socket;
let silentPackets = 0;
let proxy: FirewallProxy | undefined;

beforeAll(async () => {
  if (!available) return;
  silent = createSocket("udp4");
  silent.on("message", () => silentPackets++);
  await new Promise<void>((resolve) => silent.bind(0, SILENT, resolve));
});
afterAll(() => silent?.close());
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

describe.skipIf(!available).each(["udp", "tcp"] as const)(
  "the firewall proxy over %s between SIPp caller and core",
  (transport) => {
    /** Runs `uac` through a proxy with `policy` to a core running `uas`; returns both SIPp runs. */
    async function through(policy: unknown[], uac: string, uas: string | null, calls = 1) {
      const core = uas ? await startSipp({ scenario: uas, address: CORE, transport, calls }) : null;
      proxy = await FirewallProxy.start({
        address: PROXY,
        nextHop: core ? { host: core.address, port: core.port } : { host: SILENT, port: silent.address().port },
        config: config(policy),
      });
      const caller = await startSipp({
        scenario: uac,
        address: CALLER,
        remote: `${PROXY}:${proxy.local.port}`,
        transport,
        calls,
        extraArgs: ["-s", CALLEE],
      });
      return { caller: await caller.result, core: core ? await core.result : null };
    }

    it("pass: a flash call rings and is cancelled end to end; the core sees our Via and Record-Route", async () => {
      const { caller, core } = await through([], "uac-ring-cancel.xml", "uas-ring-cancel.xml");
      expectScenarioPassed(caller);
      expectScenarioPassed(core!);
      const [invite] = received(core!, "INVITE");
      const vias = headerValues(invite!, "Via").flatMap(splitList);
      expect(vias[0]).toMatch(
        new RegExp(`^SIP/2\\.0/${transport.toUpperCase()} ${PROXY}:${proxy!.local.port};branch=z9hG4bK-fw`),
      );
      expect(vias[1]).toContain(CALLER);
      expect(headerValues(invite!, "Record-Route")[0]).toContain(`${PROXY}:${proxy!.local.port};lr`);
      expect(headerValues(invite!, "Max-Forwards")).toEqual(["69"]);
      // The CANCEL reached the core on the INVITE's branch (a stateless proxy derives it from the caller's).
      expect(headerValues(received(core!, "CANCEL")[0]!, "Via").flatMap(splitList)[0]).toBe(vias[0]);
      expect(await proxy!.metrics.value(proxy!.metrics.invites)).toBe(1);
    });

    it("pass: an ordinary call is answered and hung up with BYE; the proxy sees it end answered", async () => {
      const { caller, core } = await through([], "firewall/uac-answer-bye.xml", "uas-answer.xml");
      expectScenarioPassed(caller);
      expectScenarioPassed(core!);
      expect(received(core!, "BYE")).toHaveLength(1);
      const ended = (await proxy!.metrics.ended.get()).values;
      expect(ended.reduce((s, v) => s + v.value, 0)).toBe(1);
    });

    it("pass: a digest challenge (401) passes through, the call with credentials rings and is cancelled", async () => {
      const { caller, core } = await through([], "firewall/uac-auth-cancel.xml", "uas-digest.xml");
      expectScenarioPassed(caller);
      expectScenarioPassed(core!);
      expect(received(core!, "INVITE")).toHaveLength(2);
      // One call, classified once, although it sent two INVITEs.
      expect(await proxy!.metrics.value(proxy!.metrics.invites)).toBe(1);
    });

    it("tag: every INVITE reaches the core with X-Flashcall (score, label, range)", async () => {
      const { caller, core } = await through(
        [{ action: "tag", min_score: 0 }],
        "uac-ring-cancel.xml",
        "firewall/uas-expect-tag.xml",
      );
      expectScenarioPassed(caller);
      expectScenarioPassed(core!);
      const tag = headerValues(received(core!, "INVITE")[0]!, "X-Flashcall")[0];
      expect(tag).toMatch(/^score=[0-9.]+;label=(flashcall|other);range="\+44207941xxxx";sender=unknown;factor="/);
    });

    it("reject: the caller gets 603 with a Reason, the core gets nothing", async () => {
      const before = silentPackets;
      const { caller } = await through(
        [{ action: "reject", code: 603, reason: "Unsolicited flash call", min_score: 0 }],
        "firewall/uac-expect-reject.xml",
        null,
      );
      expectScenarioPassed(caller);
      const final = caller.messages.find((m) => m.startLine.startsWith("SIP/2.0 603"));
      expect(headerValues(final!, "Reason")).toEqual(['SIP;cause=603;text="Unsolicited flash call"']);
      expect(silentPackets).toBe(before);
      expect((await proxy!.metrics.invites.get()).values).toEqual([
        expect.objectContaining({ labels: { action: "reject" }, value: 1 }),
      ]);
    });

    it("route: the call goes to the other next hop (CANCEL and ACK follow it), the primary sees nothing", async () => {
      const other = await startSipp({ scenario: "uas-ring-cancel.xml", address: OTHER_HOP, transport });
      const before = silentPackets;
      const { caller } = await through(
        [{ action: "route", next_hop: `${OTHER_HOP}:${other.port}`, min_score: 0 }],
        "uac-ring-cancel.xml",
        null,
      );
      expectScenarioPassed(caller);
      expectScenarioPassed(await other.result);
      expect(silentPackets).toBe(before);
    });
  },
);

describe.skipIf(!available)("fail open", () => {
  it("the classifier dies mid-traffic: every call still completes, untagged, and the failures are counted", async () => {
    const calls = 200;
    const core = await startSipp({ scenario: "uas-ring-cancel.xml", address: CORE, calls, timeoutSeconds: 20 });
    const real = new FlashClassifier(config([]));
    let alive = true;
    let seen = 0;
    // The real classifier until it dies after 60 calls: from then on every call into it throws.
    const dying = {
      atInvite: (call: Parameters<FlashClassifier["atInvite"]>[0]): InviteVerdict => {
        if (++seen > 60) alive = false;
        if (!alive) throw new Error("classifier is gone");
        return real.atInvite(call);
      },
      atEnd: (call: Parameters<FlashClassifier["atEnd"]>[0], pairBefore: number): Verdict => {
        if (!alive) throw new Error("classifier is gone");
        return real.atEnd(call, pairBefore);
      },
    };
    proxy = await FirewallProxy.start({
      address: PROXY,
      nextHop: { host: core.address, port: core.port },
      config: config([{ action: "tag", min_score: 0 }]),
      classifier: dying,
    });
    const caller = await startSipp({
      scenario: "uac-ring-cancel.xml",
      address: CALLER,
      remote: `${PROXY}:${proxy.local.port}`,
      calls,
      timeoutSeconds: 20,
      extraArgs: ["-s", CALLEE, "-r", "100", "-rp", "1000"],
    });
    const [c, k] = [await caller.result, await core.result];
    expect({ exit: c.exitCode, successful: c.successful, failed: c.failed }).toEqual({
      exit: 0,
      successful: calls,
      failed: 0,
    });
    expect({ exit: k.exitCode, successful: k.successful, failed: k.failed }).toEqual({
      exit: 0,
      successful: calls,
      failed: 0,
    });
    const invites = Object.fromEntries(
      (await proxy.metrics.invites.get()).values.map((v) => [v.labels.action, v.value]),
    );
    expect(invites).toEqual({ tag: 60, pass: calls - 60 });
    const failOpen = Object.fromEntries(
      (await proxy.metrics.failOpen.get()).values.map((v) => [v.labels.stage, v.value]),
    );
    expect(failOpen.invite).toBe(calls - 60);
    expect(failOpen.end).toBeGreaterThan(0);
    const tagged = received(k, "INVITE").filter((m) => headerValues(m, "X-Flashcall").length > 0);
    expect(tagged).toHaveLength(60);
  });
});
