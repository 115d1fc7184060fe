/**
 * The contract every text channel (SMS over SMPP or HTTP, WhatsApp, email) implements: it is the core's
 * `MessageChannel` port, named here for the adapters. Reasons a message can end with:
 * - `delivered`: the provider confirmed delivery to the phone, or the mail relay accepted the message (`250`)
 * - `rejected`: the provider refused it (bad number, blocked, template refused): definitive, nothing was sent
 * - `undeliverable`: accepted, then reported failed (phone off for good, unknown subscriber, bounced)
 * - `expired`: accepted, then not delivered within the provider's validity period
 * - `submit_unknown`: the link dropped before the provider answered: it may have gone out, so it is not resent
 * - `network_error`: the provider could not be reached: nothing was sent
 * - `no_receipt`: accepted, but no final receipt arrived in time (many routes never send one)
 */
export type {
  MessageChannel as MessageSender,
  MessageOutcome,
  MessageProgress,
  MessageReason,
  OtpMessage,
} from "../core/ports.js";
