/**
 * The inbound pool of the reverse flash call: the numbers a phone is asked to call. Operators often have only a few
 * such numbers, so a small pool is *shared*: one number serves many verifications at once, told apart by the caller
 * (never two live verifications of one phone on one number, so a call proves exactly one of them). A large pool is
 * *leased*: a number serves one verification at a time, so a call from any other caller to it is a wrong answer to
 * that verification and counts as a failed check.
 *
 * Which numbers are taken is kept here, in memory, and restored from the store's live attempts at start. Several
 * server processes each keep their own view: two of them may lease one number at once, in which case the number is
 * simply shared (calls still match by caller; a wrong caller counts against no one, see ReverseCalls).
 */
import { randomInt } from "node:crypto";

/** `shared`: many verifications per number; `leased`: one; `auto`: leased from `leaseFrom` numbers up. */
export type InboundMode = "shared" | "leased" | "auto";

export interface InboundPoolOptions {
  /** E.164 numbers and ranges (`+442079460xxx`) */
  numbers: readonly string[];
  mode: InboundMode;
  /** with mode `auto`: pools of at least this many numbers are leased; default 100 */
  leaseFrom?: number;
}

/** A number held by one live verification. */
export interface InboundHolder {
  verificationId: string;
  phone: string;
  expiresAt: number;
}

const ENTRY = /^\+[1-9][0-9]{6,14}x{0,6}$/;
/** A leased pool this large is drawn from at random; smaller ones are scanned for a free number. */
const RANDOM_DRAWS = 16;

export class InboundPool {
  readonly size: number;
  /** true: one verification per number (a wrong caller fails a check); false: shared, told apart by caller */
  readonly leased: boolean;
  private readonly blocks: { fixed: string; wildcards: number; size: number }[];
  private readonly holders = new Map<string, InboundHolder[]>();
  /** the numbers each verification holds, so that releasing one costs no scan of the pool */
  private readonly held = new Map<string, string[]>();

  constructor(options: InboundPoolOptions) {
    const problem = inboundPoolProblem(options.numbers);
    if (problem) throw new Error(problem);
    this.blocks = options.numbers.map((entry) => {
      const fixed = entry.replace(/x+$/, "");
      const wildcards = entry.length - fixed.length;
      return { fixed, wildcards, size: 10 ** wildcards };
    });
    this.size = this.blocks.reduce((sum, b) => sum + b.size, 0);
    this.leased = options.mode === "leased" || (options.mode === "auto" && this.size >= (options.leaseFrom ?? 100));
  }

  /** One number of the pool (its first), e.g. to learn the pool's country. */
  get sample(): string {
    return this.at(0);
  }

  /** Whether `number` (E.164) belongs to the pool. */
  has(number: string): boolean {
    return this.blocks.some((b) => number.length === b.fixed.length + b.wildcards && number.startsWith(b.fixed));
  }

  /**
   * Takes a number for verification `holder.verificationId` until `holder.expiresAt`: a random free one (leased),
   * or a random one this phone holds for no other live verification (shared). Null when none is left.
   */
  take(holder: InboundHolder, now: number): string | null {
    const free = (n: string) => this.free(n, holder.phone, now);
    let chosen: string | null = null;
    for (let draw = 0; draw < RANDOM_DRAWS && chosen === null; draw++) {
      const n = this.at(randomInt(this.size));
      if (free(n)) chosen = n;
    }
    if (chosen === null) {
      const offset = randomInt(this.size);
      const scan = Math.min(this.size, 100_000);
      for (let i = 0; i < scan && chosen === null; i++) {
        const n = this.at((offset + i) % this.size);
        if (free(n)) chosen = n;
      }
    }
    if (chosen !== null) this.hold(chosen, holder);
    return chosen;
  }

  /** Records that `number` is held (a live attempt found in the store at start). */
  hold(number: string, holder: InboundHolder): void {
    const list = this.holders.get(number) ?? [];
    list.push(holder);
    this.holders.set(number, list);
    this.held.set(holder.verificationId, [...(this.held.get(holder.verificationId) ?? []), number]);
  }

  /** The verification no longer waits for a call (it ended or moved on): its numbers are free again. */
  release(verificationId: string): void {
    const numbers = this.held.get(verificationId);
    if (!numbers) return;
    this.held.delete(verificationId);
    for (const number of numbers) {
      const left = (this.holders.get(number) ?? []).filter((h) => h.verificationId !== verificationId);
      if (left.length === 0) this.holders.delete(number);
      else this.holders.set(number, left);
    }
  }

  /** Live holders of `number` in this process's view. */
  holdersOf(number: string, now: number): InboundHolder[] {
    const list = this.holders.get(number) ?? [];
    const live = list.filter((h) => h.expiresAt > now);
    if (live.length === list.length) return live;
    for (const stale of list.filter((h) => h.expiresAt <= now)) this.release(stale.verificationId);
    return live;
  }

  private free(number: string, phone: string, now: number): boolean {
    const live = this.holdersOf(number, now);
    return this.leased ? live.length === 0 : !live.some((h) => h.phone === phone);
  }

  private at(index: number): string {
    let i = index;
    for (const b of this.blocks) {
      if (i < b.size) return b.wildcards === 0 ? b.fixed : b.fixed + String(i).padStart(b.wildcards, "0");
      i -= b.size;
    }
    throw new RangeError(`index ${index} outside the inbound pool of size ${this.size}`);
  }
}

/** What is wrong with a list of inbound numbers, or undefined when it is usable. */
export function inboundPoolProblem(numbers: readonly string[]): string | undefined {
  if (numbers.length === 0) return "the inbound pool needs at least one number";
  for (const entry of numbers) {
    if (!ENTRY.test(entry)) return `"${entry}" is not an E.164 number or a range like +442079460xxx (at most 6 x)`;
  }
  if (new Set(numbers).size !== numbers.length) return "each inbound number may be listed once";
  return undefined;
}
