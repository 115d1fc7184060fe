/**
 * What a send costs, in USD, by channel and destination country. Each entry has two parts, because carriers bill
 * two ways: a fee for every attempt that reached them (some operators now bill flash calls that never rang) and a
 * price for each one delivered (a call that rang, a message the provider took). The defaults charge delivered
 * sends only; an operator whose carrier bills attempts sets `attempt` in `RATE_CARD`. A rate card is list prices,
 * not an invoice: operators with their own carrier rates override entries in configuration.
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
 * priceOf("flashcall", "BR"); // { attempt: 0, delivered: 0.00561 }
 */
import type { Attempt, ChannelName } from "./types.js";

/** One channel's price to one country, in USD. */
export interface Price {
  /** charged for every attempt the carrier or provider took, delivered or not. Default 0 */
  attempt: number;
  /** charged once the send was delivered: a call that rang (or was answered), a message taken for delivery */
  delivered: number;
}

export type RateCard = Readonly<Record<ChannelName, Readonly<Record<string, Readonly<Price>>>>>;

export const DEFAULT_RATE_KEY = "DEFAULT";

const delivered = (prices: Record<string, number>): Record<string, Price> =>
  Object.fromEntries(Object.entries(prices).map(([country, price]) => [country, { attempt: 0, delivered: price }]));

export const RATE_CARD: RateCard = {
  flashcall: delivered({
    US: 0.01836,
    BR: 0.00561,
    IT: 0.01166,
    DE: 0.011,
    JP: 0.0121,
    GB: 0.0115,
    [DEFAULT_RATE_KEY]: 0.01836,
  }),
  sms: delivered({
    US: 0.0083,
    BR: 0.05,
    IT: 0.08,
    DE: 0.09,
    JP: 0.08,
    GB: 0.04,
    [DEFAULT_RATE_KEY]: 0.1,
  }),
  whatsapp: delivered({
    US: 0.0135,
    BR: 0.0315,
    IT: 0.0386,
    DE: 0.0768,
    JP: 0.0462,
    GB: 0.0358,
    [DEFAULT_RATE_KEY]: 0.08,
  }),
  viber: delivered({
    US: 0.012,
    BR: 0.0125,
    IT: 0.0372,
    DE: 0.0406,
    JP: 0.0388,
    GB: 0.0328,
    [DEFAULT_RATE_KEY]: 0.045,
  }),
  email: delivered({ [DEFAULT_RATE_KEY]: 0.0001 }),
  // Per started minute of an answered call: `delivered` prices one minute (spend caps), voiceCallCost the call.
  voice: delivered({
    US: 0.013,
    BR: 0.06,
    IT: 0.05,
    DE: 0.06,
    JP: 0.09,
    GB: 0.03,
    [DEFAULT_RATE_KEY]: 0.15,
  }),
  // The phone calls us and the call is rejected before answer: nothing is charged on either side.
  reverse_flashcall: delivered({ [DEFAULT_RATE_KEY]: 0 }),
};

/**
 * A voice call's price: the per-minute rate for every started minute of an answered call (a call that was not
 * answered costs nothing). A voice step is priced at one minute before it is sent (spend caps), then at what the
 * call lasted.
 * @example voiceCallCost("GB", 61_000); // 0.06: two started minutes
 */
export function voiceCallCost(country: string, answeredMs: number, card: RateCard = RATE_CARD): number {
  if (answeredMs <= 0) return 0;
  return Math.round(priceOf("voice", country, card).delivered * Math.ceil(answeredMs / 60_000) * 1e6) / 1e6;
}

const FREE: Price = { attempt: 0, delivered: 0 };

/** The price of `channel` to `country` (ISO 3166-1 alpha-2), else the channel's DEFAULT entry. */
export function priceOf(channel: ChannelName, country: string, card: RateCard = RATE_CARD): Price {
  const prices = card[channel];
  return prices[country] ?? prices[DEFAULT_RATE_KEY] ?? FREE;
}

/** The most one send can cost (its attempt fee and its delivered price): what a spend cap reserves. */
export function sendCost(channel: ChannelName, country: string, card: RateCard = RATE_CARD): number {
  const price = priceOf(channel, country, card);
  return price.attempt + price.delivered;
}

/**
 * Whether the carrier or provider took the attempt, which is what a per-attempt fee bills. A flash call counts
 * once the carrier answered it (any SIP response that ended it, or a ring): one that found no route or trunk
 * capacity, or that no carrier ever answered, never reached one. A message counts once a provider accepted it;
 * one refused at submission, unreachable, or refused by our own policy was not taken.
 */
function reachedCarrier(a: Attempt): boolean {
  if (a.status === "delivered") return true;
  if (a.channel === "flashcall") return a.sipCode !== null || a.ringingAt !== null;
  return a.reason === "undeliverable" || a.reason === "expired" || a.reason === "no_receipt";
}

/**
 * What an ended attempt cost: the attempt fee if the carrier took it, plus the delivered price if it was
 * delivered. Null while it is in flight or when it was never sent (a shadow-blocked attempt, a review number's).
 *
 * @example
 * attemptCost({ channel: "flashcall", status: "failed", reason: "busy", sipCode: 486, ... }, "GB"); // 0
 */
export function attemptCost(a: Attempt, country: string, card: RateCard = RATE_CARD): number | null {
  if (a.endedAt === null || a.reason === "shadow_blocked" || a.reason === "review_number") return null;
  const price = priceOf(a.channel, country, card);
  const charge = (reachedCarrier(a) ? price.attempt : 0) + (a.status === "delivered" ? price.delivered : 0);
  return Math.round(charge * 1e6) / 1e6;
}

/**
 * A transition's verification with the attempts that ended in it priced: an attempt's cost is known only once
 * it has ended (a busy call that never rang is not a delivered one).
 */
export function priceEndedAttempts<V extends { country: string; attempts: Attempt[] }>(
  before: { attempts: readonly Attempt[] },
  after: V,
  card: RateCard = RATE_CARD,
): V {
  // A voice call is priced by the minute as it ends (voiceCallCost, in the lifecycle), not here.
  const wasLive = new Set(before.attempts.filter((a) => a.endedAt === null && a.channel !== "voice").map((a) => a.id));
  if (!after.attempts.some((a) => a.endedAt !== null && wasLive.has(a.id))) return after;
  return {
    ...after,
    attempts: after.attempts.map((a) =>
      a.endedAt !== null && wasLive.has(a.id) ? { ...a, cost: attemptCost(a, after.country, card) } : a,
    ),
  };
}

/** What verifying by SMS alone would have cost: one delivered SMS to the country. */
export function smsOnlyCost(country: string, card: RateCard = RATE_CARD): number {
  return sendCost("sms", country, card);
}

/** Entries an operator sets over the shipped card: per channel and country (or DEFAULT), either part of a price. */
export type RateCardOverrides = Partial<Record<ChannelName, Record<string, Partial<Price>>>>;

/**
 * The shipped card with an operator's entries merged over it: a part left out keeps the country's shipped value
 * (else the channel's DEFAULT).
 *
 * @example
 * withOverrides(RATE_CARD, { flashcall: { RU: { attempt: 0.004 } } }).flashcall.RU; // { attempt: 0.004, delivered: 0.01836 }
 */
export function withOverrides(card: RateCard, overrides: RateCardOverrides): RateCard {
  const merged = { ...card } as Record<ChannelName, Record<string, Price>>;
  for (const [channel, entries] of Object.entries(overrides) as [ChannelName, Record<string, Partial<Price>>][]) {
    const prices = { ...card[channel] };
    for (const [country, part] of Object.entries(entries)) {
      prices[country] = { ...priceOf(channel, country, card), ...part };
    }
    merged[channel] = prices;
  }
  return merged;
}
