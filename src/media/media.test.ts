import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it, vi } from "vitest";
import { openUdpSocket } from "../sip/udp-socket.js";
import { decodeG711, encodeG711, G711_SILENCE } from "./g711.js";
import { latenessQuantile, MediaClock, newSendTiming, recordLateness } from "./media-clock.js";
import { pause } from "./prompt.js";
import { dtmfKey, parseRtp, parseTelephoneEvent, telephoneEventPayload, writeRtpHeader } from "./rtp.js";
import { RtpSession } from "./rtp-session.js";
import { negotiate, parseSdp, sdpOffer } from "./sdp.js";

describe("G.711", () => {
  it("encodes silence as the laws' zero bytes and round-trips within a quantisation step", () => {
    expect(G711_SILENCE).toEqual({ PCMU: 0xff, PCMA: 0xd5 });
    const samples = Int16Array.from([0, 1, -1, 100, -100, 1000, -1000, 8000, -8000, 32000, -32000, 32767, -32768]);
    for (const codec of ["PCMU", "PCMA"] as const) {
      const back = decodeG711(codec, encodeG711(codec, samples));
      samples.forEach((s, i) => {
        // G.711's step grows with the magnitude: about 1/16 of it, at least 16.
        expect(Math.abs((back[i] as number) - s)).toBeLessThanOrEqual(Math.max(16, Math.abs(s) / 16 + 16));
      });
    }
  });
});

describe("media clock", () => {
  it("starts streams added at one instant on the least crowded milliseconds, evenly across the 20 ms", () => {
    let now = 1000.4;
    const clock = new MediaClock(() => now);
    const idle = { pump: () => true };
    const streams = Array.from({ length: 40 }, () => ({ ...idle }));
    const starts = streams.map((stream) => clock.add(stream));
    // 40 streams on 20 phases: each millisecond of the period twice, the first due within 20 ms of the add.
    expect(starts.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => 1001 + i));
    const perPhase = new Array<number>(20).fill(0);
    for (const at of starts) {
      expect(at).toBeGreaterThanOrEqual(now);
      expect(at).toBeLessThan(now + 20);
      perPhase[at % 20] = (perPhase[at % 20] as number) + 1;
    }
    expect(perPhase).toEqual(new Array<number>(20).fill(2));
    // A stream that ends frees its phase: the next one added takes it, however far the clock has moved.
    clock.remove(streams[7] as (typeof streams)[number]);
    now = 7003.7;
    expect(clock.add({ ...idle })).toBe(7008);
    clock.stop();
  });

  it("pumps a stream added while the clock sleeps towards a later millisecond at its own first instant", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const clock = new MediaClock(() => performance.now());
      const pumps: { stream: string; at: number }[] = [];
      const stream = (name: string) => ({
        pump: (at: number) => {
          pumps.push({ stream: name, at });
          return true;
        },
      });
      vi.advanceTimersByTime(100.5);
      expect(clock.add(stream("a"))).toBe(101);
      vi.advanceTimersByTime(1);
      // a has sent; the clock sleeps until a's next packet at 121. b, added at 103.5, is due on an empty millisecond.
      vi.advanceTimersByTime(2);
      const due = clock.add(stream("b"));
      expect(due).toBe(104);
      vi.advanceTimersByTime(2);
      const first = pumps.find((p) => p.stream === "b");
      expect(first?.at).toBeGreaterThanOrEqual(due);
      expect(first?.at).toBeLessThan(due + 2);
      clock.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not skip a stream whose millisecond begins while a tick is still sending", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      // a's sends take 1.2 ms: the tick that begins at 101.5 ends at 102.7, past b's millisecond.
      let busy = 0;
      const clock = new MediaClock(() => performance.now() + busy);
      const sends: { stream: string; at: number }[] = [];
      /** A stream that sends one packet per 20 ms from `first` on, as RtpSession does. */
      const stream = (name: string, cost: number) => {
        let due = Number.POSITIVE_INFINITY;
        return {
          start: (at: number) => {
            due = at;
          },
          pump: (now: number) => {
            for (; due <= now; due += 20) {
              sends.push({ stream: name, at: now });
              busy += cost;
            }
            return true;
          },
        };
      };
      const a = stream("a", 1.2);
      const b = stream("b", 0);
      vi.advanceTimersByTime(100.5);
      a.start(clock.add(a));
      b.start(clock.add(b));
      expect(sends).toEqual([]);
      vi.advanceTimersByTime(5);
      // b's packet, due at 102, leaves on the next tick (about 1 ms late), not a period later.
      const bAt = sends.find((s) => s.stream === "b")?.at as number;
      expect(sends[0]).toEqual({ stream: "a", at: 101.5 });
      expect(bAt).toBeGreaterThanOrEqual(102);
      expect(bAt).toBeLessThan(105);
      clock.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("SDP", () => {
  it("our offer lists PCMU, PCMA and telephone-event 101 at 8 kHz with 20 ms packets", () => {
    const offer = sdpOffer({ address: "192.0.2.5", port: 20000, sessionId: 7 });
    expect(offer).toContain("m=audio 20000 RTP/AVP 0 8 101\r\n");
    expect(offer).toContain("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n");
    expect(offer).toContain("c=IN IP4 192.0.2.5\r\n");
    expect(negotiate(parseSdp(offer) as never)).toMatchObject({ codec: "PCMU", payloadType: 0, eventPayloadType: 101 });
  });

  it("follows the answer's order, its own payload numbers and a session-level address", () => {
    const answer =
      "v=0\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\n";
    expect(negotiate(parseSdp(answer) as never)).toEqual({
      address: "198.51.100.9",
      port: 4000,
      codec: "PCMA",
      payloadType: 8,
      eventPayloadType: 96,
      farEndSends: true,
    });
  });

  it("refuses an answer that rejects the stream, holds it or has no G.711", () => {
    const base = "v=0\r\nc=IN IP4 198.51.100.9\r\n";
    expect(negotiate(parseSdp(`${base}m=audio 0 RTP/AVP 0\r\n`) as never)).toBeNull();
    expect(negotiate(parseSdp(`${base}m=audio 4000 RTP/AVP 0\r\na=inactive\r\n`) as never)).toBeNull();
    expect(negotiate(parseSdp(`${base}m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n`) as never)).toBeNull();
    expect(parseSdp("v=0\r\nm=video 4000 RTP/AVP 96\r\n")).toBeNull();
  });
});

describe("RTP", () => {
  it("writes and reads the fixed header, and reads RFC 4733 events", () => {
    const packet = new Uint8Array(16);
    writeRtpHeader(packet, {
      payloadType: 101,
      marker: true,
      sequence: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
    });
    packet.set(telephoneEventPayload({ event: 1, end: true, volume: 10, duration: 800 }), 12);
    const parsed = parseRtp(packet);
    expect(parsed).toMatchObject({
      payloadType: 101,
      marker: true,
      sequence: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
    });
    expect(parseTelephoneEvent(parsed?.payload as Uint8Array)).toEqual({
      event: 1,
      end: true,
      volume: 10,
      duration: 800,
    });
    expect(dtmfKey(1)).toBe("1");
    expect(dtmfKey(11)).toBe("#");
    expect(parseRtp(Uint8Array.of(0x40, 0, 0, 0))).toBeNull();
  });

  it("lateness quantiles come from the histogram", () => {
    const t = newSendTiming();
    for (let i = 0; i < 99; i++) recordLateness(t, 0.1);
    recordLateness(t, 7);
    expect(latenessQuantile(t, 0.5)).toBe(0.25);
    expect(latenessQuantile(t, 0.99)).toBe(0.25);
    expect(latenessQuantile(t, 1)).toBe(7.25);
    expect(t.maxLateMs).toBe(7);
  });
});

describe("RtpSession", () => {
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  it("plays the prompt in numbered 20 ms packets and replays it on DTMF 1", async () => {
    const ours = await openUdpSocket({ address: "127.0.0.145", port: 0 });
    const phone = createSocket("udp4");
    sockets.push(phone);
    await new Promise<void>((r) => phone.bind(0, "127.0.0.145", () => r()));
    const received: Buffer[] = [];
    let pressed = false;
    phone.on("message", (data, from) => {
      received.push(Buffer.from(data));
      // After the first prompt and menu, press 1 once (three end packets, one event).
      if (!pressed && received.length === 16) {
        pressed = true;
        const event = Buffer.alloc(16);
        writeRtpHeader(event, { payloadType: 101, marker: true, sequence: 1, timestamp: 5, ssrc: 9 });
        event.set(telephoneEventPayload({ event: 1, end: true, volume: 10, duration: 480 }), 12);
        for (let i = 0; i < 3; i++) phone.send(event, from.port, from.address);
      }
    });
    const tone = Int16Array.from({ length: 800 }, (_, i) => Math.round(8000 * Math.sin(i / 3)));
    const session = new RtpSession(
      ours,
      {
        address: "127.0.0.145",
        port: phone.address().port,
        codec: "PCMA",
        payloadType: 8,
        eventPayloadType: 101,
        farEndSends: true,
      },
      {
        clips: new Map([["tone", tone]]),
        speech: ["tone", pause(200)],
        codeEndsAfter: 1,
        menu: [pause(100)],
        listenMs: 200,
        maxReplays: 1,
      },
      new MediaClock(),
    );
    session.start();
    const report = await session.done;
    ours.close();
    // Speech (a 100 ms tone, 200 ms of silence) and menu (100 ms) are 20 packets; the key press during the menu
    // (after packet 16) starts them again, then 200 ms of listening: 16 + 20 + 10 packets.
    expect(report).toMatchObject({ end: "completed", codeHeard: true, dtmf: "1", replays: 1, codec: "PCMA" });
    expect(report.timing.packets).toBe(46);
    await new Promise((r) => setTimeout(r, 50));
    const packets = received.map((d) => parseRtp(d)).filter((p) => p !== null);
    expect(packets).toHaveLength(46);
    expect(packets[0]?.marker).toBe(true);
    for (let i = 1; i < packets.length; i++) {
      expect(packets[i]?.marker).toBe(false);
      expect(packets[i]?.sequence).toBe(((packets[i - 1]?.sequence as number) + 1) & 0xffff);
      expect(packets[i]?.timestamp).toBe(((packets[i - 1]?.timestamp as number) + 160) >>> 0);
      expect(packets[i]?.payload.length).toBe(160);
    }
    // The tone is heard at the start and again after the key press.
    const loud = (p: (typeof packets)[number]) => p?.payload.some((b) => b !== 0xd5) ?? false;
    expect(packets.slice(0, 5).every(loud)).toBe(true);
    expect(packets.filter(loud).length).toBe(10);
  });
});
