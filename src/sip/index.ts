/**
 * The SIP layer: a small UAC for flash calls over UDP, TCP or TLS. Import from here; the other modules are internals.
 */
export { reasonForFinal } from "./call-reason.js";
export type {
  CallReason,
  CallRecord,
  DigestCredentials,
  FlashCaller,
  PlaceCallOptions,
  PlacedCall,
  SipTransport,
  SipUacOptions,
} from "./types.js";
export { SipUac } from "./uac.js";
export { type SipUacWorker, type SipUacWorkerOptions, startSipUacWorker } from "./uac-worker.js";
