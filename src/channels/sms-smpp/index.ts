/**
 * SMS over SMPP: sends a text as one SMS or a concatenated one through an SmppClient bind, and follows each part to
 * its final delivery receipt. It knows nothing of verifications: the workflow hands it an attempt id, a number and
 * the text (which carries the code), and hears back `accepted` (the SMSC took every part) and then `ended`.
 */
import type { MessageOutcome, MessageProgress, MessageReason, MessageSender } from "../message-channel.js";
import { destinationAddress, type SmppAddress, senderAddress } from "./addresses.js";
import type { DeliveryReceipt } from "./delivery-receipt.js";
import { ESM_CLASS_UDHI, encodeSms } from "./segments.js";
import { SmppClient, type SmppClientOptions, type SubmitOutcome } from "./smpp-client.js";

export interface SmppSmsOptions {
  bind: Omit<SmppClientOptions, "onReceipt">;
  /** "+E.164", a short code, or an alphanumeric sender id (see senderAddress) */
  sender: string | SmppAddress;
  /** Ask for delivery receipts. Default true. */
  registeredDelivery?: boolean;
  /** Give up waiting for receipts after this long (`no_receipt`). Default 10 minutes. */
  receiptTimeoutMs?: number;
}

const MAX_EARLY_RECEIPTS = 10_000;

interface Tracked {
  progress: MessageProgress;
  /** message ids still waiting for a final receipt */
  waiting: Set<string>;
  timer: NodeJS.Timeout | null;
  ended: boolean;
}

const RECEIPT_REASON: Record<DeliveryReceipt["state"], MessageReason> = {
  delivered: "delivered",
  expired: "expired",
  deleted: "undeliverable",
  undeliverable: "undeliverable",
  rejected: "undeliverable",
  unknown: "undeliverable",
  accepted: "no_receipt", // not final: never ends an attempt
  enroute: "no_receipt", // not final either
};

export function createSmppSmsSender(options: SmppSmsOptions): MessageSender {
  const source = senderAddress(options.sender);
  const registeredDelivery = options.registeredDelivery ?? true;
  const byMessageId = new Map<string, Tracked>();
  // An SMSC may send a part's receipt in the same read as the submit_sm_resp of the next part (or of the same
  // part), before the attempt knows its ids: such receipts wait here, bounded, for their id to be registered.
  const early = new Map<string, DeliveryReceipt>();
  let reference = 0;

  const onFinalReceipt = (tracked: Tracked, receipt: DeliveryReceipt) => {
    byMessageId.delete(receipt.messageId);
    tracked.waiting.delete(receipt.messageId);
    if (receipt.state !== "delivered") {
      end(tracked, { delivered: false, reason: RECEIPT_REASON[receipt.state], detail: receipt.error });
    } else if (tracked.waiting.size === 0) {
      end(tracked, { delivered: true, reason: "delivered", detail: null });
    }
  };

  const end = (tracked: Tracked, outcome: Omit<MessageOutcome, "at">) => {
    if (tracked.ended) return;
    tracked.ended = true;
    if (tracked.timer) clearTimeout(tracked.timer);
    for (const id of tracked.waiting) byMessageId.delete(id);
    tracked.progress.ended({ at: Date.now(), ...outcome });
  };

  const client = SmppClient.start({
    ...options.bind,
    onReceipt(receipt) {
      if (!receipt.final) return;
      const tracked = byMessageId.get(receipt.messageId);
      if (tracked) {
        onFinalReceipt(tracked, receipt);
        return;
      }
      early.set(receipt.messageId, receipt);
      if (early.size > MAX_EARLY_RECEIPTS) early.delete(early.keys().next().value as string);
    },
  });

  return {
    send(message, progress) {
      const tracked: Tracked = {
        progress,
        waiting: new Set(),
        timer: null,
        ended: false,
      };
      let encoded: ReturnType<typeof encodeSms>;
      let destination: SmppAddress;
      try {
        destination = destinationAddress(message.to);
        reference = (reference + 1) & 0xff;
        encoded = encodeSms(message.text, reference);
      } catch (error) {
        end(tracked, { delivered: false, reason: "rejected", detail: (error as Error).message });
        return;
      }
      const esmClass = encoded.parts.length > 1 ? ESM_CLASS_UDHI : 0;
      const submits = encoded.parts.map((payload) =>
        client.submit({ source, destination, dataCoding: encoded.dataCoding, esmClass, payload, registeredDelivery }),
      );
      void Promise.all(submits).then((outcomes) => {
        const failure = worstFailure(outcomes);
        if (failure) {
          end(tracked, failure);
          return;
        }
        const ids = outcomes.map((o) => (o as { messageId: string }).messageId);
        if (tracked.ended) return;
        progress.accepted(Date.now(), ids);
        if (!registeredDelivery) {
          end(tracked, { delivered: false, reason: "no_receipt", detail: "receipts not requested" });
          return;
        }
        for (const id of ids) {
          tracked.waiting.add(id);
          byMessageId.set(id, tracked);
        }
        for (const id of ids) {
          const receipt = early.get(id);
          if (receipt) {
            early.delete(id);
            onFinalReceipt(tracked, receipt);
          }
        }
        if (tracked.ended) return;
        tracked.timer = setTimeout(
          () => end(tracked, { delivered: false, reason: "no_receipt", detail: null }),
          options.receiptTimeoutMs ?? 600_000,
        );
        tracked.timer.unref();
      });
    },
    async close() {
      await client.close();
    },
  };
}

/** With several parts the attempt takes the most telling failure: a definite rejection over an unknown outcome. */
function worstFailure(outcomes: SubmitOutcome[]): Omit<MessageOutcome, "at"> | null {
  const rejected = outcomes.find((o) => o.status === "rejected");
  if (rejected)
    return { delivered: false, reason: "rejected", detail: `command_status 0x${rejected.commandStatus.toString(16)}` };
  const unknown = outcomes.find((o) => o.status === "unknown");
  if (unknown) return { delivered: false, reason: "submit_unknown", detail: unknown.detail };
  const notSent = outcomes.find((o) => o.status === "not_sent");
  if (notSent) return { delivered: false, reason: "network_error", detail: notSent.detail };
  return null;
}
