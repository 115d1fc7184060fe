/**
 * `npm run bench:firewall-cpu`: the proxy's CPU time per flash call, a figure a loaded machine does not distort the
 * way it distorts a rate (bench:firewall needs a quiet machine; this one does not).
 *
 * One process holds the proxy and two plain UDP peers: a caller playing flash calls (INVITE, 100, 180, CANCEL, 200,
 * 487, ACK: seven messages through the proxy) with callers and callees of a generated holdout day, and a handset
 * answering them. `process.cpuUsage()` over the measured calls, minus the same calls played between the peers
 * directly (no proxy), is the proxy's CPU per call; 1,000,000 us divided by it is the calls per second one core
 * could carry. Also: the classifier alone (atInvite + atEnd per call), and the proxy's own handling time per INVITE
 * (its latency recorder: received -> handed to the kernel).
 *
 * Flags: --calls 30000  --warmup 5000  --window 50
 */
import { createSocket, type Socket } from "node:dgram";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { FlashClassifier } from "../src/firewall/classifier.js";
import { firewallConfigSchema } from "../src/firewall/config.js";
import { generateTraffic } from "../src/firewall/generator/generate.js";
import { MIXES } from "../src/firewall/generator/mixes.js";
import { FirewallProxy } from "../src/firewall/proxy/proxy.js";
import { formatResponse, parseMessage } from "../src/sip/message.js";

const PROXY_ADDRESS = "127.0.22.10";
const CALLER_ADDRESS = "127.0.22.11";
const HANDSET_ADDRESS = "127.0.22.12";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "30000" },
    warmup: { type: "string", default: "5000" },
    window: { type: "string", default: "50" },
  },
});
const measured = Number(values.calls);
const warmup = Number(values.warmup);
const window = Number(values.window);
const config = firewallConfigSchema.parse({ policy: [{ min_score: 0.9, action: "tag" }] });
const day = generateTraffic({ mix: MIXES.holdout!, seed: 10, calls: measured + warmup });
const people = day.map((c) => [c.cdr.caller, c.cdr.callee] as const);

async function bind(address: string): Promise<Socket> {
  const s = createSocket({ type: "udp4", recvBufferSize: 1 << 22, sendBufferSize: 1 << 22 });
  await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
  return s;
}

const caller = await bind(CALLER_ADDRESS);
const handset = await bind(HANDSET_ADDRESS);
const callerPort = caller.address().port;
const handsetPort = handset.address().port;

/** Plays `total` flash calls from the caller to the handset through `target`, `window` at a time. */
async function play(total: number, target: { host: string; port: number }, first: number): Promise<void> {
  const invites = new Map<string, ReturnType<typeof parseMessage>>();
  let started = 0;
  let done = 0;
  const send = (s: Socket, text: string, host: string, port: number) => s.send(Buffer.from(text, "latin1"), port, host);
  const request = (method: string, n: number, toTag: string) => {
    const [from, to] = people[(first + n) % people.length] as readonly [string, string];
    const cseq = method === "INVITE" ? "1 INVITE" : `1 ${method}`;
    return (
      `${method} sip:${to}@${target.host}:${target.port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${CALLER_ADDRESS}:${callerPort};branch=z9hG4bK-c${n}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:${from}@${CALLER_ADDRESS}>;tag=c${n}\r\n` +
      `To: <sip:${to}@${target.host}>${toTag}\r\nCall-ID: cpu-${first}-${n}\r\nCSeq: ${cseq}\r\n` +
      `Contact: <sip:${from}@${CALLER_ADDRESS}:${callerPort}>\r\nContent-Length: 0\r\n\r\n`
    );
  };
  const next = () => {
    if (started < total) {
      send(caller, request("INVITE", started, ""), target.host, target.port);
      started++;
    }
  };
  await new Promise<void>((resolve) => {
    handset.removeAllListeners("message");
    caller.removeAllListeners("message");
    handset.on("message", (buf, rinfo) => {
      const msg = parseMessage(buf.toString("latin1"));
      if (!msg?.callId) return;
      const reply = (m: NonNullable<typeof msg>, status: number, phrase: string) =>
        send(handset, formatResponse(m, status, phrase, { toTag: "h" }), rinfo.address, rinfo.port);
      if (msg.method === "INVITE") {
        invites.set(msg.callId, msg);
        reply(msg, 100, "Trying");
        reply(msg, 180, "Ringing");
      } else if (msg.method === "CANCEL") {
        reply(msg, 200, "OK");
        const invite = invites.get(msg.callId);
        if (invite) reply(invite, 487, "Request Terminated");
      } else if (msg.method === "ACK") {
        invites.delete(msg.callId);
        done++;
        if (done === total) resolve();
        else next();
      }
    });
    caller.on("message", (buf) => {
      const msg = parseMessage(buf.toString("latin1"));
      if (!msg?.callId) return;
      const n = Number(msg.callId.slice(msg.callId.lastIndexOf("-") + 1));
      if (msg.status === 180) send(caller, request("CANCEL", n, ""), target.host, target.port);
      else if (msg.status === 487) send(caller, request("ACK", n, ";tag=h"), target.host, target.port);
    });
    for (let i = 0; i < window; i++) next();
  });
}

/** CPU microseconds per call of `run`. */
async function cpuPerCall(calls: number, run: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

const direct = { host: HANDSET_ADDRESS, port: handsetPort };
await play(warmup, direct, 0);
const peersOnly = await cpuPerCall(measured, () => play(measured, direct, warmup));

const proxy = await FirewallProxy.start({ address: PROXY_ADDRESS, nextHop: direct, config });
const viaProxy = { host: proxy.local.address, port: proxy.local.port };
await play(warmup, viaProxy, 0);
proxy.latency.reset();
const throughProxy = await cpuPerCall(measured, () => play(measured, viaProxy, warmup));
const handling = { p50: proxy.latency.percentile(50), p99: proxy.latency.percentile(99) };
await proxy.close();
caller.close();
handset.close();

// The classifier alone, on the same calls with their recorded outcomes.
const classifier = new FlashClassifier(config);
const classify = (from: number, to: number) => {
  for (let i = from; i < to; i++) {
    const cdr = (day[i % day.length] as (typeof day)[number]).cdr;
    classifier.atEnd(cdr, classifier.atInvite(cdr).pairBefore);
  }
};
classify(0, warmup);
const classifierOnly = await cpuPerCall(measured, async () => classify(warmup, warmup + measured));

const proxyPerCall = throughProxy - peersOnly;
const row = (what: string, us: number) => console.log(`${what.padEnd(44)} ${us.toFixed(1).padStart(8)} us`);
console.log(
  `${measured} flash calls (7 messages each through the proxy), window ${window}, load ${loadavg()[0]?.toFixed(1)}`,
);
row("CPU per call, peers and proxy", throughProxy);
row("CPU per call, peers alone", peersOnly);
row("CPU per call, the proxy (difference)", proxyPerCall);
row("  of which the classifier (atInvite + atEnd)", classifierOnly);
row("proxy handling per INVITE, p50", handling.p50);
row("proxy handling per INVITE, p99", handling.p99);
console.log(`one core at this CPU per call: ${Math.round(1e6 / proxyPerCall).toLocaleString("en")} calls/s`);
