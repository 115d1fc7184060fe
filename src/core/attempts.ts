/**
 * The attempts a verification's steps open: one per step, a flash call dialing from a leased CLI, a message carrying
 * a code, or a reverse flash call waiting for the phone's call. Plain constructors; the lifecycle
 * (verification.ts) moves them on.
 */
import type { NumberPool } from "./pool.js";
import type { Attempt, ChannelName } from "./types.js";

/** A flash-call attempt dialing from a leased CLI. Its expiry is set when its step opens. */
export function flashcallAttempt(p: {
  id: string;
  verificationId: string;
  seq: number;
  pool: NumberPool;
  cliKey: string;
  /** the CLI without its code digits */
  cliPrefix: string;
  codeMac: string;
  /** what the call cost: null until it ends (see priceEndedAttempts in rate-card.ts) */
  cost: number | null;
  now: number;
}): Attempt {
  return {
    ...attemptBase(p.id, p.verificationId, p.seq, "flashcall", p.now),
    cost: p.cost,
    poolId: p.pool.id,
    cliKey: p.cliKey,
    cliPrefix: p.cliPrefix,
    codeLength: p.pool.codeLength,
    codeMac: p.codeMac,
  };
}

/** A message attempt (SMS, WhatsApp, email) carrying a one-time code. */
export function messageAttempt(p: {
  id: string;
  verificationId: string;
  seq: number;
  channel: Exclude<ChannelName, "flashcall">;
  codeLength: number;
  codeMac: string;
  /** what the message cost: null until it ends (see priceEndedAttempts in rate-card.ts) */
  cost: number | null;
  now: number;
}): Attempt {
  return {
    ...attemptBase(p.id, p.verificationId, p.seq, p.channel, p.now),
    cost: p.cost,
    poolId: null,
    cliKey: null,
    cliPrefix: null,
    codeLength: p.codeLength,
    codeMac: p.codeMac,
  };
}

/**
 * A reverse flash call: the phone is to call `dial`, a number of the inbound pool. Nothing is sent and there is no
 * code: the caller ID of the call that arrives is the proof, so it waits as `sent` from the moment it opens.
 */
export function reverseAttempt(p: { id: string; verificationId: string; seq: number; dial: string; now: number }) {
  const attempt: Attempt = {
    ...attemptBase(p.id, p.verificationId, p.seq, "reverse_flashcall", p.now),
    status: "sent",
    cost: null,
    poolId: null,
    cliKey: null,
    cliPrefix: null,
    dial: p.dial,
    codeLength: 0,
    codeMac: "",
  };
  return attempt;
}

function attemptBase(id: string, verificationId: string, seq: number, channel: ChannelName, now: number) {
  return {
    id,
    verificationId,
    seq,
    channel,
    // Stored as dialing in the transaction that opens the step: the INVITE or submit goes out right after it commits.
    status: "dialing" as const,
    reason: null,
    sipCode: null,
    createdAt: now,
    dialedAt: now,
    ringingAt: null,
    endedAt: null,
    trunkId: null,
    invitedAt: null,
    reasonHeader: null,
    expiresAt: now,
    detail: null,
  };
}
