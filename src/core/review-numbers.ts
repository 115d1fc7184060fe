/**
 * App-review and monitoring numbers: an application's own numbers that verify with a fixed code (or, for a flash
 * call, from a fixed caller ID) and never send anything. App stores' reviewers get through the phone step with them,
 * and operators run synthetic checks that cost nothing. A start to one skips the decision callback and the fraud
 * controls (nothing is sent, so nothing can be pumped or spent) and completes its step virtually; a check of one
 * is screened and counted like any other, so a wrong code still fails and the failure budget still holds: a review
 * number is no oracle for guessing. Each is audited: who added it and when, who removed it and when (a removed one is
 * kept, and listed on request). There are none unless an application adds them.
 */
import { err, errWith, ok, type Result } from "./errors.js";
import { newId } from "./ids.js";
import { MAX_OTP_LENGTH, MIN_OTP_LENGTH } from "./otp.js";
import { parseCallerId, parseDestination } from "./phone.js";
import type { Clock } from "./ports.js";
import type { ChannelName, WorkflowStep } from "./types.js";

export interface ReviewNumberRecord {
  id: string;
  applicationId: string;
  /** E.164 */
  phone: string;
  /** the code message and voice steps accept; null when only a flash call is served */
  code: string | null;
  /** the E.164 caller ID a flash-call step pretends to call from; its last digits are the code */
  callerId: string | null;
  label: string;
  createdAt: number;
  /** the API key that added it */
  createdBy: string;
  removedAt: number | null;
  removedBy: string | null;
}

/** The review numbers' storage port, the same on every store (see src/storage/review-number-conformance.ts). */
export interface ReviewNumberStore {
  /** `exists`: the application already has an active review number for this phone */
  insertReviewNumber(record: ReviewNumberRecord): Promise<"inserted" | "exists">;
  /** the application's numbers, oldest first; removed ones only when asked */
  listReviewNumbers(applicationId: string, includeRemoved: boolean): Promise<ReviewNumberRecord[]>;
  /** marks an active number removed; false when the application has no such active number */
  removeReviewNumber(applicationId: string, id: string, by: string, now: number): Promise<boolean>;
}

export interface NewReviewNumber {
  phone: string;
  code?: string | undefined;
  callerId?: string | undefined;
  label?: string | undefined;
}

/** How long a process trusts its copy of an application's list: another node's change shows within this. */
const CACHE_TTL_MS = 5_000;
const CACHE_LIMIT = 10_000;

export class ReviewNumbers {
  private readonly cache = new Map<string, { byPhone: Map<string, ReviewNumberRecord>; until: number }>();

  constructor(
    private readonly store: ReviewNumberStore,
    private readonly clock: Clock,
  ) {}

  /** Adds a number after checking it: a valid E.164 phone, a code of 4-10 digits and/or a caller ID. */
  async add(applicationId: string, input: NewReviewNumber, by: string): Promise<Result<ReviewNumberRecord>> {
    const phone = parseDestination(input.phone);
    if (!phone) return err("INVALID_PHONE_NUMBER");
    const problems: string[] = [];
    const code = input.code ?? null;
    if (code !== null && !new RegExp(`^[0-9]{${MIN_OTP_LENGTH},${MAX_OTP_LENGTH}}$`).test(code)) {
      problems.push(`code: ${MIN_OTP_LENGTH}-${MAX_OTP_LENGTH} ASCII digits`);
    }
    const callerId = input.callerId === undefined ? null : (parseCallerId(input.callerId, phone.country) ?? "");
    if (callerId === "") problems.push("caller_id: an E.164 number, e.g. +442079460123");
    if (code === null && input.callerId === undefined) problems.push("code or caller_id: give at least one");
    if (problems.length > 0) {
      return errWith("INVALID_REVIEW_NUMBER", { problems });
    }
    const now = this.clock.now();
    const record: ReviewNumberRecord = {
      id: newId("rvn", now),
      applicationId,
      phone: phone.e164,
      code,
      callerId: callerId === "" ? null : callerId,
      label: input.label ?? "",
      createdAt: now,
      createdBy: by,
      removedAt: null,
      removedBy: null,
    };
    const inserted = await this.store.insertReviewNumber(record);
    this.cache.delete(applicationId);
    if (inserted === "exists") return err("REVIEW_NUMBER_EXISTS");
    return ok(record);
  }

  list(applicationId: string, includeRemoved = false): Promise<ReviewNumberRecord[]> {
    return this.store.listReviewNumbers(applicationId, includeRemoved);
  }

  async remove(applicationId: string, id: string, by: string): Promise<boolean> {
    const removed = await this.store.removeReviewNumber(applicationId, id, by, this.clock.now());
    this.cache.delete(applicationId);
    return removed;
  }

  /**
   * The application's active review number for an E.164 phone, if any. Every start asks, so the list is kept in
   * memory for a few seconds: an application with none costs one query per few seconds, not one per start.
   */
  async find(applicationId: string, phone: string): Promise<ReviewNumberRecord | undefined> {
    const now = this.clock.now();
    let entry = this.cache.get(applicationId);
    if (!entry || entry.until <= now) {
      const records = await this.store.listReviewNumbers(applicationId, false);
      entry = { byPhone: new Map(records.map((r) => [r.phone, r])), until: now + CACHE_TTL_MS };
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(applicationId, entry);
    }
    return entry.byPhone.get(phone);
  }
}

/** What a review verification runs: one step of the planned workflow, with the code its attempt accepts. */
export interface ReviewStep {
  /** the index in the planned workflow of the step it runs */
  index: number;
  step: WorkflowStep;
  /** the code digits a check must report (a flash call: the caller ID's last digits) */
  code: string;
  /** a flash call: the caller ID; null for a message or voice step */
  callerId: string | null;
}

/**
 * The first step of the plan, from `first` on, that the review number serves: a flash call needs its caller ID,
 * any other channel its code, and a reverse flash call (the phone calls us) is never served. Only that step runs (a review number never falls back: its step is delivered at
 * once), and a resend of a message step says the same code again.
 */
export function reviewStep(
  workflow: readonly WorkflowStep[],
  first: number,
  number: ReviewNumberRecord,
  flashcallCodeLength: number | null,
): Result<ReviewStep> {
  for (let index = first; index < workflow.length; index++) {
    const step = workflow[index] as WorkflowStep;
    if (step.channel === "flashcall") {
      if (number.callerId === null || flashcallCodeLength === null) continue;
      return ok({ index, step, code: number.callerId.slice(-flashcallCodeLength), callerId: number.callerId });
    }
    // A reverse flash call proves the number by the phone's own call, which no fixed code can stand in for.
    if (step.channel === "reverse_flashcall") continue;
    if (number.code !== null) return ok({ index, step, code: number.code, callerId: null });
  }
  const channels = workflow.slice(first).map((s) => s.channel as ChannelName);
  return err(
    "INVALID_WORKFLOW",
    `review number ${number.id} serves ${number.callerId ? "flash calls" : "message and voice steps"}, ` +
      `not this workflow (${channels.join(", ")})`,
  );
}
