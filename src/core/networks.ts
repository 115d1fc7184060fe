/**
 * Destination networks: what delivery is measured by. Operators decide whether flash calls reach their subscribers,
 * so a number's network is its operator where the operator's table names one (a prefix -> network table, e.g.
 * `{"+447520": "GB-DropCo"}`), else its country and the first digits of its national number (a number range, which
 * is how operators' blocks were allocated): `GB:7520`. Numbers ported between operators keep their range's network.
 *
 * @example
 * const networks = new NetworkTable({ "+7916": "RU-MTS" }, { DEFAULT: 4 });
 * networks.of("+79161234567", "RU"); // "RU-MTS"
 * networks.of("+447400123456", "GB"); // "GB:7400"
 */
import { type CountryCode, getCountryCallingCode } from "libphonenumber-js/max";

/** National digits that name a number range when the table names no operator. */
export const DEFAULT_NETWORK_DIGITS = 4;

export class NetworkTable {
  private readonly longest: number;
  private readonly codes = new Map<string, string>();

  constructor(
    /** E.164 prefix -> network name, longest prefix wins */
    private readonly prefixes: Readonly<Record<string, string>> = {},
    /** country (ISO) or DEFAULT -> national digits of a number range */
    private readonly digits: Readonly<Record<string, number>> = {},
  ) {
    this.longest = Math.max(0, ...Object.keys(prefixes).map((p) => p.length));
  }

  of(e164: string, country: string): string {
    for (let length = Math.min(this.longest, e164.length); length >= 2; length--) {
      const name = this.prefixes[e164.slice(0, length)];
      if (name !== undefined) return name;
    }
    const national = e164.slice(1 + this.callingCode(country).length);
    const digits = this.digits[country] ?? this.digits.DEFAULT ?? DEFAULT_NETWORK_DIGITS;
    return `${country}:${national.slice(0, digits)}`;
  }

  private callingCode(country: string): string {
    let code = this.codes.get(country);
    if (code === undefined) {
      try {
        code = getCountryCallingCode(country as CountryCode);
      } catch {
        // Not a country libphonenumber knows (ZZ): the range starts after the "+".
        code = "";
      }
      this.codes.set(country, code);
    }
    return code;
  }
}
