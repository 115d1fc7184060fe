/**
 * Source and destination addresses with their TON/NPI (SMPP 3.4 §5.2.5-5.2.6). Carriers route on these: an
 * alphanumeric sender id must be TON 5, an international number TON 1 / NPI 1 (E.164, digits without "+"), a short
 * code TON 3 (network specific). A wrong pair is a common cause of silent SMSC rejections.
 */

export interface SmppAddress {
  ton: number;
  npi: number;
  addr: string;
}

export const TON_INTERNATIONAL = 0x01;
export const TON_NETWORK_SPECIFIC = 0x03;
export const TON_ALPHANUMERIC = 0x05;
export const NPI_UNKNOWN = 0x00;
export const NPI_ISDN = 0x01;

/**
 * The sender id as configured: "+447700900123" (international), "12345" (short code), or up to 11 GSM
 * characters with a letter ("Acme"). An explicit `{ ton, npi, addr }` is taken as is.
 * @throws RangeError for an id no SMSC would accept.
 */
export function senderAddress(sender: string | SmppAddress): SmppAddress {
  if (typeof sender !== "string") return sender;
  if (/^\+[1-9]\d{6,14}$/.test(sender)) return { ton: TON_INTERNATIONAL, npi: NPI_ISDN, addr: sender.slice(1) };
  if (/^\d{3,8}$/.test(sender)) return { ton: TON_NETWORK_SPECIFIC, npi: NPI_UNKNOWN, addr: sender };
  if (/^(?=.*[A-Za-z])[A-Za-z0-9 .\-&]{1,11}$/.test(sender)) {
    return { ton: TON_ALPHANUMERIC, npi: NPI_UNKNOWN, addr: sender };
  }
  throw new RangeError(
    `invalid SMS sender id ${JSON.stringify(sender)}: use +E.164, a 3-8 digit short code, or up to 11 letters/digits`,
  );
}

/** The destination of an E.164 number. @throws RangeError when `e164` is not E.164. */
export function destinationAddress(e164: string): SmppAddress {
  if (!/^\+[1-9]\d{6,14}$/.test(e164)) throw new RangeError(`not an E.164 number: ${JSON.stringify(e164)}`);
  return { ton: TON_INTERNATIONAL, npi: NPI_ISDN, addr: e164.slice(1) };
}
