/**
 * The SIP layer: a small UAC for flash calls on node:dgram. Import from here; the other modules are internals.
 */
export { reasonForFinal } from "./call-reason.js";
export type { CallReason, CallRecord, FlashCaller, PlaceCallOptions, PlacedCall, SipUacOptions } from "./types.js";
export { SipUac } from "./uac.js";
export { type SipUacWorker, type SipUacWorkerOptions, startSipUacWorker } from "./uac-worker.js";
