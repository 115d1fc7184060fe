import { createSocket, type Socket } from "node:dgram";
import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { SplitMediaHost } from "./media-split.js";
import { MediaThreads } from "./media-threads.js";
import { pause } from "./prompt.js";
import { parseRtp, telephoneEventPayload, writeRtpHeader } from "./rtp.js";

const ADDRESS = "127.0.32.10";
const PORTS = { min: 46000, max: 46099 };

describe("SplitMediaHost", () => {
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  it("sends from a media thread on the offered port and reads the far end's audio and DTMF on this thread", async () => {
    const host = new SplitMediaHost(ADDRESS, PORTS, new MediaThreads(1, { address: ADDRESS, ports: PORTS }));
    const leg = await host.open();
    expect(leg.port % 2).toBe(0);
    const phone = createSocket("udp4");
    sockets.push(phone);
    await new Promise<void>((r) => phone.bind(0, ADDRESS, () => r()));
    const received: Buffer[] = [];
    const fromPorts = new Set<number>();
    phone.on("message", (data, from) => {
      received.push(Buffer.from(data));
      fromPorts.add(from.port);
      // The phone talks back (echoes each packet) and, after the first prompt and menu, presses 1 once.
      phone.send(data, from.port, from.address);
      if (received.length === 16) {
        const event = Buffer.alloc(16);
        writeRtpHeader(event, { payloadType: 101, marker: true, sequence: 1, timestamp: 5, ssrc: 9 });
        event.set(telephoneEventPayload({ event: 1, end: true, volume: 10, duration: 480 }), 12);
        for (let i = 0; i < 3; i++) phone.send(event, from.port, from.address);
      }
    });
    const tone = Int16Array.from({ length: 800 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
    const remote = {
      address: ADDRESS,
      port: phone.address().port,
      codec: "PCMU" as const,
      payloadType: 0,
      eventPayloadType: 101,
      farEndSends: true,
    };
    const prompt = {
      clips: new Map([["tone", tone]]),
      speech: ["tone", pause(200)],
      codeEndsAfter: 1,
      menu: [pause(100)],
      listenMs: 200,
      maxReplays: 1,
    };
    const report = await leg.play(remote, prompt);
    await host.close();
    // As the in-thread session: 16 packets, the key press replays speech and menu (20), then 200 ms of listening.
    expect(report).toMatchObject({ end: "completed", codeHeard: true, dtmf: "1", replays: 1, codec: "PCMU" });
    expect(report.timing.packets).toBe(46);
    expect(received).toHaveLength(46);
    // Symmetric RTP: every packet left from the port the SDP offer named, and the echoes of all but the last few
    // (in flight when the session ended) plus the key's three packets were read.
    expect([...fromPorts]).toEqual([leg.port]);
    expect(report.packetsReceived).toBeGreaterThanOrEqual(40);
    const packets = received.map((d) => parseRtp(d));
    for (let i = 1; i < packets.length; i++) {
      expect(packets[i]?.sequence).toBe(((packets[i - 1]?.sequence as number) + 1) & 0xffff);
    }
  });

  it("runs its media thread at nice -10 where the process may raise it, and leaves it alone where not", async () => {
    // Field 19 of a task's stat (counted after the command name's ")"); null for a thread that has just ended.
    const niceOf = (path: string): number | null => {
      try {
        const stat = readFileSync(path, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
      } catch {
        return null;
      }
    };
    const tasks = () => new Set(readdirSync("/proc/self/task"));
    const processNice = niceOf("/proc/self/stat") as number;
    // Permitted: CAP_SYS_NICE (bit 23 of the effective capabilities) or an RLIMIT_NICE of 30 or more (20 - 30 = -10).
    const status = readFileSync("/proc/self/status", "utf8");
    const capEff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0"}`);
    const rlimitNice = Number(/Max nice priority\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"))?.[1] ?? 0);
    const permitted = (capEff & (1n << 23n)) !== 0n || rlimitNice >= 30;
    const expected = permitted && processNice > -10 ? -10 : processNice;

    const before = tasks();
    const range = { min: 46200, max: 46201 };
    const host = new SplitMediaHost(ADDRESS, range, new MediaThreads(1, { address: ADDRESS, ports: range }));
    const leg = await host.open();
    const started = [...tasks()].filter((tid) => !before.has(tid));
    const nice = started.map((tid) => niceOf(`/proc/self/task/${tid}/stat`)).filter((n) => n !== null);
    leg.close();
    await host.close();
    // The media thread, and any helper thread started with it at the process's own value.
    expect(nice.length).toBeGreaterThanOrEqual(1);
    expect(nice.filter((n) => n === expected).length).toBeGreaterThanOrEqual(1);
    expect(nice.every((n) => n === expected || n === processNice)).toBe(true);
  });

  it("releases a leg that never plays, and its port can be bound again", async () => {
    const range = { min: 46100, max: 46101 };
    const host = new SplitMediaHost(ADDRESS, range, new MediaThreads(1, { address: ADDRESS, ports: range }));
    const leg = await host.open();
    expect(leg.port).toBe(46100);
    await expect(host.open()).rejects.toMatchObject({ code: "EADDRINUSE" });
    leg.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await host.open();
    expect(again.port).toBe(46100);
    await host.close();
  });
});
