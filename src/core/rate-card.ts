/**
 * What a send costs, in USD, by destination country: the spend caps of the fraud controls add these up. A rate card
 * is list prices, not an invoice: operators with their own carrier rates override entries in configuration.
 *
 * Flash-call prices: US, BR, IT, DE and JP are per-call list prices of a commercial flash-call verification offer
 * as collected for this project in November 2026 (not re-checked against a provider's page since). GB is an
 * estimate between DE and IT; DEFAULT is the highest listed price, so a country missing from the card is never
 * under-counted against a cap.
 *
 * SMS, WhatsApp and email: round per-message figures of the order public price pages show (SMS from a large
 * CPaaS's list prices, WhatsApp from Meta's authentication-category rates), not quotes; they exist so a
 * verification's cost and its SMS-only comparison are shown, and operators should put their own contract prices
 * in. Email is priced as a bulk relay would be.
 *
 * @example
 * sendCost("flashcall", "BR"); // 0.00561
 */
import type { ChannelName } from "./types.js";

export type RateCard = Readonly<Record<ChannelName, Readonly<Record<string, number>>>>;

export const DEFAULT_RATE_KEY = "DEFAULT";

export const RATE_CARD: RateCard = {
  flashcall: {
    US: 0.01836,
    BR: 0.00561,
    IT: 0.01166,
    DE: 0.011,
    JP: 0.0121,
    GB: 0.0115,
    [DEFAULT_RATE_KEY]: 0.01836,
  },
  sms: {
    US: 0.0083,
    BR: 0.05,
    IT: 0.08,
    DE: 0.09,
    JP: 0.08,
    GB: 0.04,
    [DEFAULT_RATE_KEY]: 0.1,
  },
  whatsapp: {
    US: 0.0135,
    BR: 0.0315,
    IT: 0.0386,
    DE: 0.0768,
    JP: 0.0462,
    GB: 0.0358,
    [DEFAULT_RATE_KEY]: 0.08,
  },
  viber: {
    US: 0.012,
    BR: 0.0125,
    IT: 0.0372,
    DE: 0.0406,
    JP: 0.0388,
    GB: 0.0328,
    [DEFAULT_RATE_KEY]: 0.045,
  },
  email: { [DEFAULT_RATE_KEY]: 0.0001 },
  // Per started minute of an answered call (sendCost prices one minute; voiceCallCost the call).
  voice: {
    US: 0.013,
    BR: 0.06,
    IT: 0.05,
    DE: 0.06,
    JP: 0.09,
    GB: 0.03,
    [DEFAULT_RATE_KEY]: 0.15,
  },
};

/**
 * A voice call's price: the per-minute rate for every started minute of an answered call (a call that was not
 * answered costs nothing). A voice step is priced at one minute before it is sent (spend caps), then at what the
 * call lasted.
 * @example voiceCallCost("GB", 61_000); // 0.06: two started minutes
 */
export function voiceCallCost(country: string, answeredMs: number, card: RateCard = RATE_CARD): number {
  if (answeredMs <= 0) return 0;
  return Math.round(sendCost("voice", country, card) * Math.ceil(answeredMs / 60_000) * 1e6) / 1e6;
}

/** The list price in USD of one send on `channel` to `country` (ISO 3166-1 alpha-2). */
export function sendCost(channel: ChannelName, country: string, card: RateCard = RATE_CARD): number {
  const prices = card[channel];
  return prices[country] ?? prices[DEFAULT_RATE_KEY] ?? 0;
}
