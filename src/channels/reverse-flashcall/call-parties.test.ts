import { describe, expect, it } from "vitest";
import { InboundPool } from "../../core/inbound-pool.js";
import { parseMessage } from "../../sip/message.js";
import { callerNumber, dialledNumber } from "./call-parties.js";

const pool = new InboundPool({ numbers: ["+442079460999"], mode: "shared" });

function invite(uri: string, from: string, to: string, asserted?: string) {
  const lines = [
    `INVITE ${uri} SIP/2.0`,
    "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK1",
    `From: ${from};tag=1`,
    `To: ${to}`,
    ...(asserted ? [`P-Asserted-Identity: ${asserted}`] : []),
    "Call-ID: 1",
    "CSeq: 1 INVITE",
    "Content-Length: 0",
  ];
  return parseMessage(`${lines.join("\r\n")}\r\n\r\n`) ?? (undefined as never);
}

describe("who called which number", () => {
  it("reads the dialled number in E.164, without its plus, nationally, or from To", () => {
    for (const uri of [
      "sip:+442079460999@h",
      "sip:442079460999@h;user=phone",
      "sip:02079460999@h",
      "tel:+44-20-7946-0999",
    ]) {
      expect(dialledNumber(invite(uri, "<sip:+447400123456@h>", "<sip:x@h>"), pool, "GB")).toBe("+442079460999");
    }
    expect(dialledNumber(invite("sip:trunk@h", "<sip:a@h>", "<sip:+442079460999@h>"), pool, "GB")).toBe(
      "+442079460999",
    );
    expect(dialledNumber(invite("sip:+442079460998@h", "<sip:a@h>", "<sip:b@h>"), pool, "GB")).toBeNull();
  });

  it("takes the caller from P-Asserted-Identity over From, in any format, and none from anonymous", () => {
    const asserted = invite("sip:+442079460999@h", "<sip:+447400999999@h>", "<sip:x@h>", "<sip:07400123456@h>");
    expect(callerNumber(asserted, "GB")).toBe("+447400123456");
    expect(callerNumber(invite("sip:x@h", '"A" <sip:447400123456@h>', "<sip:x@h>"), "GB")).toBe("+447400123456");
    expect(callerNumber(invite("sip:x@h", "<sip:0044 7400 123456@h>", "<sip:x@h>"), "GB")).toBe("+447400123456");
    expect(callerNumber(invite("sip:x@h", "<sip:anonymous@anonymous.invalid>", "<sip:x@h>"), "GB")).toBeNull();
  });

  it("reads the number from the URI, never from a display name that holds one", () => {
    const real = "<sip:+447911123456@trunk.example>";
    for (const name of [
      '"<sip:+447400140001@evil>"',
      '"Bob \\" <sip:+447400140001@evil>"',
      '"Smith, <tel:+447400140001>"',
    ]) {
      const asserted = invite("sip:+442079460999@h", "<sip:x@h>", "<sip:x@h>", `${name} ${real}`);
      expect(callerNumber(asserted, "GB"), name).toBe("+447911123456");
      expect(callerNumber(invite("sip:x@h", `${name} ${real}`, "<sip:x@h>"), "GB"), name).toBe("+447911123456");
      const to = invite("sip:trunk@h", "<sip:a@h>", `${name} <sip:+442079460999@h>`);
      expect(dialledNumber(to, pool, "GB"), name).toBe("+442079460999");
    }
    // A quote that never closes leaves no number to read.
    expect(
      callerNumber(invite("sip:x@h", '"<sip:+447400140001@evil> <sip:+447911123456@h>', "<sip:x@h>"), "GB"),
    ).toBeNull();
  });
});
