/**
 * What a use case does to one stored verification, as `VerificationUpdater.update` applies it: a transition to save
 * with its events, a refusal to answer with (nothing is written), or nothing at all.
 */
import type { AppError, ErrorCode } from "./errors.js";
import type { Transition } from "./verification.js";

export interface Refusal {
  refused: AppError;
}

export type Change = Transition | Refusal | undefined;

export const refuse = (code: ErrorCode, message?: string): Refusal => ({
  refused: message === undefined ? { code } : { code, message },
});

export const isRefusal = (change: Change): change is Refusal => change !== undefined && "refused" in change;
