import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES, StreamFramer } from "./stream-framer.js";

const msg = (body = "") =>
  `SIP/2.0 180 Ringing\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

function feed(chunks: string[]) {
  const framer = new StreamFramer();
  const out: string[] = [];
  let pings = 0;
  for (const c of chunks)
    framer.push(
      Buffer.from(c),
      (m) => out.push(m.toString()),
      () => pings++,
    );
  return { out, pings };
}

describe("StreamFramer", () => {
  it("splits back-to-back messages and reassembles one split anywhere, bodies included", () => {
    const a = msg();
    const b = msg("v=0\r\n");
    const whole = a + b + a;
    for (let cut = 1; cut < whole.length; cut += 7) {
      expect(feed([whole.slice(0, cut), whole.slice(cut)]).out).toEqual([a, b, a]);
    }
    expect(feed([...whole]).out).toEqual([a, b, a]);
  });

  it("answers CRLFCRLF pings between messages and skips CRLF pongs", () => {
    expect(feed(["\r\n\r\n", msg(), "\r\n", msg(), "\r", "\n\r", "\n"])).toEqual({ out: [msg(), msg()], pings: 2 });
  });

  it("accepts the compact form l: and any case", () => {
    const compact = "SIP/2.0 200 OK\r\nl:2\r\n\r\nok";
    const lower = "SIP/2.0 200 OK\r\ncontent-length :  0\r\n\r\n";
    expect(feed([compact + lower]).out).toEqual([compact, lower]);
  });

  it("refuses a message without Content-Length and an endless header", () => {
    expect(() => feed(["SIP/2.0 200 OK\r\nVia: x\r\n\r\n"])).toThrow(/Content-Length/);
    expect(() => feed([`SIP/2.0 200 OK\r\nX: ${"a".repeat(MAX_MESSAGE_BYTES)}`])).toThrow(/too large/);
    expect(() => feed(["\rX"])).toThrow(/stray/);
  });
});
