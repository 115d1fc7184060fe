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
  /** how many distinct codes the pool can produce: the code space an attacker guesses in */
  readonly distinctCodes: number;
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
    this.distinctCodes = countDistinctCodes(this.blocks, definition.codeLength);
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
  return undefined;
}

function countDistinctCodes(blocks: Block[], codeLength: number): number {
  const space = 10 ** codeLength;
  if (blocks.some((b) => b.wildcards >= codeLength)) return space;
  const codes = new Set<string>();
  for (const block of blocks) {
    for (let i = 0; i < block.size; i++) {
      const n = block.wildcards === 0 ? block.fixed : block.fixed + String(i).padStart(block.wildcards, "0");
      codes.add(n.slice(-codeLength));
    }
  }
  return codes.size;
}

/** The public part of a CLI: everything but its code digits. */
export function cliPrefix(cli: string, codeLength: number): string {
  return cli.slice(0, cli.length - codeLength);
}

/** `+44207941****`: the prefix shown to the user, code digits masked. */
export function maskedPattern(prefix: string, codeLength: number): string {
  return prefix + "*".repeat(codeLength);
}
