/**
 * Delivery receipts (SMPP 3.4 Appendix B): a deliver_sm with esm_class "MC delivery receipt" whose text reads
 * `id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text: ...`.
 * SMSCs differ in details (hex or decimal ids, missing fields, the id only in the receipted_message_id TLV), so the
 * parser takes what is there and prefers the TLVs when present.
 */

export type ReceiptState =
  | "delivered"
  | "expired"
  | "deleted"
  | "undeliverable"
  | "accepted"
  | "enroute"
  | "unknown"
  | "rejected";

/** States a message passes through on its way: a receipt in one of them ends nothing. */
const INTERMEDIATE: ReadonlySet<ReceiptState> = new Set(["accepted", "enroute"]);

export interface DeliveryReceipt {
  messageId: string;
  state: ReceiptState;
  /** the network error code, when the SMSC gave one */
  error: string | null;
  /** final states end the message; ENROUTE/ACCEPTED-style intermediates do not */
  final: boolean;
}

const STAT: Record<string, ReceiptState> = {
  ENROUTE: "enroute",
  DELIVRD: "delivered",
  EXPIRED: "expired",
  DELETED: "deleted",
  UNDELIV: "undeliverable",
  ACCEPTD: "accepted",
  UNKNOWN: "unknown",
  REJECTD: "rejected",
};

// message_state TLV values (SMPP 3.4 §5.2.28; 0, SCHEDULED, is SMPP 5.0's).
const MESSAGE_STATE: Record<number, ReceiptState> = {
  0: "enroute",
  1: "enroute",
  2: "delivered",
  3: "expired",
  4: "deleted",
  5: "undeliverable",
  6: "accepted",
  7: "unknown",
  8: "rejected",
};

const ESM_CLASS_RECEIPT = 0x04;

export interface ReceiptPdu {
  esm_class?: number;
  short_message?: unknown;
  receipted_message_id?: string;
  message_state?: number;
}

/** The receipt a deliver_sm carries, or null when it is not a receipt (an ordinary mobile-originated message). */
export function parseDeliveryReceipt(pdu: ReceiptPdu): DeliveryReceipt | null {
  if (((pdu.esm_class ?? 0) & 0x3c) !== ESM_CLASS_RECEIPT) return null;
  const text = shortMessageText(pdu.short_message);
  const fields = new Map<string, string>();
  for (const match of text.matchAll(/(id|sub|dlvrd|stat|err):(\S*)/gi)) {
    // The first of each wins: the trailing `text:` quotes the message itself, which may hold anything.
    const name = (match[1] as string).toLowerCase();
    if (!fields.has(name)) fields.set(name, match[2] as string);
  }
  const messageId = pdu.receipted_message_id || fields.get("id");
  if (!messageId) return null;
  const state =
    (pdu.message_state !== undefined ? MESSAGE_STATE[pdu.message_state] : undefined) ??
    STAT[(fields.get("stat") ?? "").toUpperCase()] ??
    "unknown";
  return {
    messageId,
    state,
    error: fields.get("err") ?? null,
    final: !INTERMEDIATE.has(state),
  };
}

/** The receipt text, whether the package decoded it to a string or left the octets. */
function shortMessageText(message: unknown): string {
  if (typeof message === "string") return message;
  if (Buffer.isBuffer(message)) return message.toString("latin1");
  if (message && typeof message === "object" && "message" in message) {
    const inner = (message as { message: unknown }).message;
    return typeof inner === "string" ? inner : Buffer.isBuffer(inner) ? inner.toString("latin1") : "";
  }
  return "";
}
