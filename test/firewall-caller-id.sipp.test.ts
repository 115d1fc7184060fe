/**
 * The caller the firewall scores is the URI of From, never a number written into From's quoted display name: a SIPp
 * caller sends `From: "<sip:+447700900123@...>" <sip:+442079412345@...>` through the proxy with a tag policy, and
 * the core's SIPp sees the range of the real caller in X-Flashcall.
 */
import { afterEach, describe, expect, it } from "vitest";
import { firewallConfigSchema } from "../src/firewall/config.js";
import { FirewallProxy } from "../src/firewall/proxy/proxy.js";
import { expectScenarioPassed, headerValues, startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const available = peerAvailable("sipp", () => commandExists("sipp"));
const PROXY = "127.0.35.60";
const CALLER = "127.0.35.61";
const CORE = "127.0.35.62";

let proxy: FirewallProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

describe.skipIf(!available).each(["udp", "tcp"] as const)("the firewall proxy over %s", (transport) => {
  it("scores the caller in From's URI, not a number in its display name", async () => {
    const core = await startSipp({ scenario: "firewall/uas-expect-tag.xml", address: CORE, transport });
    proxy = await FirewallProxy.start({
      address: PROXY,
      nextHop: { host: core.address, port: core.port },
      config: firewallConfigSchema.parse({ policy: [{ action: "tag", min_score: 0 }] }),
    });
    const caller = await startSipp({
      scenario: "firewall/uac-spoofed-display-name.xml",
      address: CALLER,
      remote: `${PROXY}:${proxy.local.port}`,
      transport,
      extraArgs: ["-s", "+447400123456"],
    });
    const [c, k] = [await caller.result, await core.result];
    expectScenarioPassed(c);
    expectScenarioPassed(k);
    const invite = k.messages.find((m) => m.direction === "received" && m.startLine.startsWith("INVITE "));
    const tag = headerValues(invite!, "X-Flashcall")[0];
    expect(tag).toContain('range="+44207941xxxx"');
    expect(tag).not.toContain("+447700");
  });
});
