/**
 * Caller-ID pools. A pool is a set of E.164 numbers written as ranges (`+4420794xxxxx`: every `x` is any digit) or
 * single numbers, with the code length its flash calls use. The code is the last `codeLength` digits of the CLI.
 *
 * Numbers are addressed by index so a pool of millions is drawn from without being materialised: the draw picks a
 * uniform index with a CSPRNG and maps it to a number.
 */
import { randomInt } from "node:crypto";

export interface PoolDefinition {
  id: string;
  name: string;
  /** ranges (`+4420794xxxxx`) and single numbers (`+442079460123`) */
  numbers: readonly string[];
  /** digits of the CLI that form the code, 4..6 */
  codeLength: number;
  /** ISO countries this pool may call, or `["*"]` for any */
  countries: readonly string[];
}

const ENTRY = /^\+[1-9][0-9]*x*$/;

interface Block {
  fixed: string;
  wildcards: number;
  size: number;
}

export class NumberPool {
  readonly size: number;
  /** the smallest code space behind any prefix this pool shows: its worst-case guess probability's divisor */
  readonly fewestCodesPerPrefix: number;
  private readonly blocks: Block[];

  constructor(readonly definition: PoolDefinition) {
    const problem = validatePool(definition);
    if (problem) throw new Error(`pool ${definition.id}: ${problem}`);
    this.blocks = definition.numbers.map((entry) => {
      const fixed = entry.replace(/x+$/, "");
      const wildcards = entry.length - fixed.length;
      return { fixed, wildcards, size: 10 ** wildcards };
    });
    this.size = this.blocks.reduce((sum, b) => sum + b.size, 0);
    this.fewestCodesPerPrefix = Math.min(
      // Within a block every number shows a prefix with the same count behind it, so one sample per block will do.
      ...this.blocks.map((b) =>
        this.codesSharing(cliPrefix(b.fixed.padEnd(b.fixed.length + b.wildcards, "0"), this.codeLength)),
      ),
    );
  }

  get id(): string {
    return this.definition.id;
  }

  get codeLength(): number {
    return this.definition.codeLength;
  }

  serves(country: string): boolean {
    const countries = this.definition.countries;
    return countries.includes("*") || countries.includes(country);
  }

  /** The number at `index` (0 <= index < size). */
  at(index: number): string {
    let i = index;
    for (const block of this.blocks) {
      if (i < block.size) {
        return block.wildcards === 0 ? block.fixed : block.fixed + String(i).padStart(block.wildcards, "0");
      }
      i -= block.size;
    }
    throw new RangeError(`index ${index} outside pool ${this.id} of size ${this.size}`);
  }

  /**
   * How many codes an attacker who sees `prefix` (the CLI without its code digits, shown in the pattern) has to
   * choose from: the pool numbers that share it. Blocks never overlap (validatePool), so they can be summed.
   */
  codesSharing(prefix: string): number {
    const length = prefix.length + this.codeLength;
    let count = 0;
    for (const block of this.blocks) {
      if (block.fixed.length + block.wildcards !== length) continue;
      if (block.fixed.length <= prefix.length) {
        if (prefix.startsWith(block.fixed)) count += 10 ** Math.min(block.wildcards, this.codeLength);
      } else if (block.fixed.startsWith(prefix)) {
        count += block.size;
      }
    }
    return count;
  }

  /** A uniformly random number of the pool, from the CSPRNG. */
  draw(): string {
    return this.at(randomInt(this.size));
  }
}

/** Returns a description of what is wrong with a pool definition, or undefined when it is usable. */
export function validatePool(p: PoolDefinition): string | undefined {
  if (!Number.isInteger(p.codeLength) || p.codeLength < 4 || p.codeLength > 6) return "code_length must be 4..6";
  if (p.numbers.length === 0) return "a pool needs at least one number or range";
  if (p.countries.length === 0) return "a pool needs at least one country (or *)";
  let size = 0;
  for (const entry of p.numbers) {
    if (!ENTRY.test(entry)) return `"${entry}" is not an E.164 number or range like +4420794xxxxx`;
    const digits = entry.length - 1;
    if (digits < 8 || digits > 15) return `"${entry}" must have 8..15 digits`;
    if (digits - p.codeLength < 4) return `"${entry}" is too short for a ${p.codeLength}-digit code`;
    size += 10 ** (entry.length - entry.replace(/x+$/, "").length);
  }
  if (size > 1e12) return "a pool may hold at most 10^12 numbers";
  const overlap = findOverlap(p.numbers);
  if (overlap) return `"${overlap[0]}" and "${overlap[1]}" overlap: list each number once`;
  return undefined;
}

/** Two entries of one length overlap when the fixed digits of one start the fixed digits of the other. */
function findOverlap(entries: readonly string[]): [string, string] | undefined {
  const fixed = entries.map((e) => e.replace(/x+$/, ""));
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [a, b] = [fixed[i] as string, fixed[j] as string];
      if (entries[i]?.length === entries[j]?.length && (a.startsWith(b) || b.startsWith(a))) {
        return [entries[i] as string, entries[j] as string];
      }
    }
  }
  return undefined;
}

/** The public part of a CLI: everything but its code digits. */
export function cliPrefix(cli: string, codeLength: number): string {
  return cli.slice(0, cli.length - codeLength);
}

/** `+44207941****`: the prefix shown to the user, code digits masked. */
export function maskedPattern(prefix: string, codeLength: number): string {
  return prefix + "*".repeat(codeLength);
}

/**
 * A pool as the fraud policy report and the dashboard show it: its numbers, and an attacker's worst-case odds
 * (checks allowed over the fewest codes behind any prefix it shows) against the configured bound.
 */
export function poolOdds(pool: NumberPool, maxChecks: number, maxGuessProbability: number) {
  const guess = maxChecks / pool.fewestCodesPerPrefix;
  return {
    id: pool.id,
    name: pool.definition.name,
    countries: [...pool.definition.countries],
    codeLength: pool.codeLength,
    size: pool.size,
    guessProbability: guess,
    withinBound: guess <= maxGuessProbability,
  };
}

export type PoolOdds = ReturnType<typeof poolOdds>;
