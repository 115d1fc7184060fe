/**
 * The GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1) and its extension table, as SMPP sends it with
 * data_coding 0: one septet per octet, unpacked. An OTP text in plain Latin letters fits 160 septets in one SMS; one
 * character outside the alphabet forces UCS-2 and 70 characters, so the choice is made per message.
 */

const BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/** Extension characters: sent as ESC (0x1B) then this septet, so each counts two. */
const EXTENSION: ReadonlyArray<readonly [string, number]> = [
  ["\f", 0x0a],
  ["^", 0x14],
  ["{", 0x28],
  ["}", 0x29],
  ["\\", 0x2f],
  ["[", 0x3c],
  ["~", 0x3d],
  ["]", 0x3e],
  ["|", 0x40],
  ["€", 0x65],
];

const ESC = 0x1b;
const basicCode = new Map<string, number>();
const basicChar: string[] = [];
for (let i = 0; i < BASIC.length; i++) {
  const ch = BASIC[i] as string;
  basicChar[i] = ch;
  if (i !== ESC) basicCode.set(ch, i);
}
const extensionCode = new Map(EXTENSION);
const extensionChar = new Map(EXTENSION.map(([ch, code]) => [code, ch]));

/** The septets of `text`, or null when a character is outside the default alphabet and its extension. */
export function encodeGsm7(text: string): number[] | null {
  const septets: number[] = [];
  for (const ch of text) {
    const basic = basicCode.get(ch);
    if (basic !== undefined) {
      septets.push(basic);
      continue;
    }
    const ext = extensionCode.get(ch);
    if (ext === undefined) return null;
    septets.push(ESC, ext);
  }
  return septets;
}

/** Decodes unpacked septets; an unknown extension decodes as a space, as handsets show it. */
export function decodeGsm7(septets: Uint8Array): string {
  let text = "";
  for (let i = 0; i < septets.length; i++) {
    const septet = (septets[i] as number) & 0x7f;
    if (septet === ESC && i + 1 < septets.length) {
      i++;
      text += extensionChar.get((septets[i] as number) & 0x7f) ?? " ";
    } else {
      text += basicChar[septet] ?? " ";
    }
  }
  return text;
}
