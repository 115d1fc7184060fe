import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { destinationAddress, senderAddress } from "./addresses.js";
import { parseDeliveryReceipt } from "./delivery-receipt.js";
import { decodeGsm7, encodeGsm7 } from "./gsm7.js";
import { DATA_CODING_GSM7, DATA_CODING_UCS2, encodeSms, readConcatHeader } from "./segments.js";

const GSM_CHARS = [..."@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡AZÄÖÑÜ§¿azäöñüà\f^{}\\[~]|€"];

function decodePart(part: Buffer, dataCoding: number, multipart: boolean): string {
  const body = multipart ? part.subarray((part[0] as number) + 1) : part;
  if (dataCoding === DATA_CODING_GSM7) return decodeGsm7(body);
  let text = "";
  for (let i = 0; i < body.length; i += 2) text += String.fromCharCode(body.readUInt16BE(i));
  return text;
}

describe("GSM-7 and SMS segmentation", () => {
  it("round-trips every GSM character, extension characters as two septets", () => {
    const text = GSM_CHARS.join("");
    const septets = encodeGsm7(text);
    expect(septets).not.toBeNull();
    expect(septets).toHaveLength(GSM_CHARS.length + 10);
    expect(decodeGsm7(Uint8Array.from(septets ?? []))).toBe(text);
    expect(encodeGsm7("code 1234 ✓")).toBeNull();
  });

  it("fits 160 GSM septets or 70 UCS-2 units in one SMS, and splits beyond", () => {
    expect(encodeSms("a".repeat(160), 1).parts).toHaveLength(1);
    expect(encodeSms("a".repeat(161), 1).parts).toHaveLength(2);
    expect(encodeSms("€".repeat(80), 1).parts).toHaveLength(1);
    expect(encodeSms("ж".repeat(70), 1)).toMatchObject({ dataCoding: DATA_CODING_UCS2 });
    expect(encodeSms("ж".repeat(70), 1).parts).toHaveLength(1);
    expect(encodeSms("ж".repeat(71), 1).parts).toHaveLength(2);
  });

  it("reassembles any text from its parts, each part decodable alone and within its limit", () => {
    const alphabet = fc.constantFrom(...GSM_CHARS, "ж", "😀", "✓");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 500 }), fc.integer({ min: 0, max: 255 }), (chars, reference) => {
        const text = chars.join("");
        const { dataCoding, parts } = encodeSms(text, reference);
        const multipart = parts.length > 1;
        const decoded = parts.map((part) => decodePart(part, dataCoding, multipart));
        expect(decoded.join("")).toBe(text);
        parts.forEach((part, i) => {
          expect(part.length).toBeLessThanOrEqual(dataCoding === DATA_CODING_GSM7 ? 160 : 140);
          if (multipart) expect(readConcatHeader(part)).toEqual({ reference, total: parts.length, index: i + 1 });
        });
      }),
    );
  });
});

describe("delivery receipts", () => {
  it("reads the Appendix B text and prefers the TLVs", () => {
    const text =
      "id:0000000a1b sub:001 dlvrd:001 submit date:2611221200 done date:2611221200 stat:DELIVRD err:000 text:";
    expect(parseDeliveryReceipt({ esm_class: 0x04, short_message: { message: text } })).toEqual({
      messageId: "0000000a1b",
      state: "delivered",
      error: "000",
      final: true,
    });
    expect(
      parseDeliveryReceipt({
        esm_class: 0x04,
        short_message: Buffer.from("id:1 stat:DELIVRD"),
        receipted_message_id: "abc",
        message_state: 5,
      }),
    ).toMatchObject({ messageId: "abc", state: "undeliverable" });
    expect(parseDeliveryReceipt({ esm_class: 0x04, short_message: "id:7 stat:ACCEPTD" })).toMatchObject({
      final: false,
    });
    expect(parseDeliveryReceipt({ esm_class: 0x00, short_message: "id:7 stat:DELIVRD" })).toBeNull();
  });

  it("reads ENROUTE (and SMPP 5.0's SCHEDULED) as on the way, not as a final unknown that fails the message", () => {
    expect(parseDeliveryReceipt({ esm_class: 0x04, short_message: "id:7 stat:ENROUTE err:000" })).toMatchObject({
      state: "enroute",
      final: false,
    });
    for (const state of [0, 1]) {
      expect(
        parseDeliveryReceipt({ esm_class: 0x04, short_message: "", receipted_message_id: "7", message_state: state }),
      ).toMatchObject({ messageId: "7", final: false });
    }
  });

  it("takes each field's first appearance: the quoted text cannot overrule the SMSC's", () => {
    const text = "id:7 sub:001 dlvrd:000 stat:UNDELIV err:034 text:stat:DELIVRD err:000";
    expect(parseDeliveryReceipt({ esm_class: 0x04, short_message: text })).toEqual({
      messageId: "7",
      state: "undeliverable",
      error: "034",
      final: true,
    });
  });
});

describe("SMPP addresses", () => {
  it("gives each kind of sender its TON/NPI and refuses what no SMSC takes", () => {
    expect(senderAddress("+447700900123")).toEqual({ ton: 1, npi: 1, addr: "447700900123" });
    expect(senderAddress("12345")).toEqual({ ton: 3, npi: 0, addr: "12345" });
    expect(senderAddress("Acme")).toEqual({ ton: 5, npi: 0, addr: "Acme" });
    expect(() => senderAddress("TwelveLetter")).toThrow(RangeError);
    expect(() => senderAddress("")).toThrow(RangeError);
    expect(destinationAddress("+447400123456")).toEqual({ ton: 1, npi: 1, addr: "447400123456" });
    expect(() => destinationAddress("07400123456")).toThrow(RangeError);
  });
});
