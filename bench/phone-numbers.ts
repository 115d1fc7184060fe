/**
 * Unique destination numbers for the load: GB mobiles +447400xxxxxx (valid, type MOBILE for libphonenumber), one
 * per verification, so every incoming call maps to exactly one started verification. The sandbox handsets fail
 * numbers ending in 0486/0404/0408/0200 on purpose (busy, not found, silent, answered); those are skipped.
 *
 * @example
 * const phones = new PhoneNumbers();
 * phones.next(); // "+447400000001"
 */

const PREFIX = "+447400";
const SPACE = 1_000_000;
const TEST_SUFFIXES = new Set(["0486", "0404", "0408", "0200"]);

export class PhoneNumbers {
  private counter: number;

  /** @param start first index into the 6-digit space; default 1 */
  constructor(start = 1) {
    this.counter = start;
  }

  /** The next unused number; throws once the million numbers are used up (about 8 minutes at 2,000/s). */
  next(): string {
    for (;;) {
      if (this.counter >= SPACE) throw new RangeError("PhoneNumbers: +447400xxxxxx exhausted");
      const phone = PREFIX + String(this.counter++).padStart(6, "0");
      if (!TEST_SUFFIXES.has(phone.slice(-4))) return phone;
    }
  }
}
