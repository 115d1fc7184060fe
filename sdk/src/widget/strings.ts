/**
 * Every text the widget shows, with English defaults. Translate by passing a partial object to the widget
 * (`widget.strings = { verify: "Vérifier", ... }`); texts with numbers or names in them are functions.
 */
import type { Channel } from "../client.js";

export interface WidgetStrings {
  /** how a channel is named in a sentence */
  channelName: (channel: Channel) => string;
  starting: string;
  waitingForCall: string;
  /** under "Waiting for call...", above the pattern (shown on its own line) */
  callHint: (pattern: string, digits: number) => string;
  /** once the call has ended: the caller ID is in the call log now */
  callArrived: string;
  /** under "Missed call received", above the pattern */
  callArrivedHint: (pattern: string, digits: number) => string;
  callCodeLabel: (digits: number) => string;
  messageSent: (channel: Channel) => string;
  messageHint: (channel: Channel, digits: number) => string;
  messageCodeLabel: (digits: number) => string;
  fellBack: (channel: Channel) => string;
  /** a reverse flash call: the person calls the number shown, from the phone being verified */
  callToVerify: string;
  /** under "Call this number to verify", above the number (a tel: link) */
  callToVerifyHint: string;
  /** the reverse flash call's countdown */
  callWithin: (time: string) => string;
  /** on a message step after a flash call the person gave up on: says the call did come after all */
  callCameLate: string;
  expiresIn: (time: string) => string;
  codeExpired: string;
  verify: string;
  checking: string;
  useInstead: (channel: Channel) => string;
  sendNewCode: string;
  invalidFormat: (digits: number) => string;
  wrongCode: (attemptsLeft: number) => string;
  verified: string;
  expired: string;
  tooManyAttempts: string;
  blocked: string;
  unsupportedNumber: string;
  unreachable: string;
  canceled: string;
  rateLimited: (seconds: number | null) => string;
  noNextStep: string;
  unavailable: string;
  networkError: string;
  tryAgain: string;
}

const CHANNEL_NAMES: Record<Channel, string> = {
  flashcall: "call",
  sms: "SMS",
  whatsapp: "WhatsApp",
  viber: "Viber",
  email: "email",
  voice: "voice call",
  reverse_flashcall: "a call from your phone",
};

export const ENGLISH: WidgetStrings = {
  channelName: (channel) => CHANNEL_NAMES[channel],
  starting: "Starting verification…",
  waitingForCall: "Waiting for call…",
  callHint: (_pattern, digits) =>
    `We are calling you. No need to answer: the call ends by itself. Enter the last ${digits} digits of the number that calls, which looks like this:`,
  callArrived: "Missed call received",
  callArrivedHint: (_pattern, digits) =>
    `Enter the last ${digits} digits of the number that just called you, which looks like this:`,
  callCodeLabel: (digits) => `Last ${digits} digits of the missed call`,
  messageSent: (channel) => `We sent you a code by ${CHANNEL_NAMES[channel]}`,
  messageHint: (channel, digits) => `Enter the ${digits}-digit code from the ${CHANNEL_NAMES[channel]} message.`,
  messageCodeLabel: (digits) => `${digits}-digit code`,
  fellBack: (channel) => `The call could not reach your phone, so we sent a code by ${CHANNEL_NAMES[channel]}.`,
  callCameLate: "The call came after all",
  callToVerify: "Call this number to verify",
  callToVerifyHint:
    "Call it from the phone you are verifying: tap the number. The call is declined at once and costs nothing; your number is verified when it arrives.",
  callWithin: (time) => `Call within ${time}`,
  expiresIn: (time) => `Code expires in ${time}`,
  codeExpired: "This code has expired.",
  verify: "Verify",
  checking: "Checking…",
  useInstead: (channel) => `Use ${CHANNEL_NAMES[channel]} instead`,
  sendNewCode: "Send a new code",
  invalidFormat: (digits) => `Enter ${digits} digits (0–9).`,
  wrongCode: (left) =>
    left === 1 ? "That code is not right. 1 attempt left." : `That code is not right. ${left} attempts left.`,
  verified: "Your number is verified.",
  expired: "The verification expired before a code was entered.",
  tooManyAttempts: "Too many wrong codes: this verification is closed.",
  blocked: "This number cannot be verified right now. Try another number, or contact support.",
  unsupportedNumber: "Numbers like this one cannot be verified here. Try a mobile number.",
  unreachable: "We could not reach this number by any channel.",
  canceled: "The verification was canceled.",
  rateLimited: (seconds) =>
    seconds ? `Too many attempts. Try again in ${seconds} seconds.` : "Too many attempts. Try again later.",
  noNextStep: "No other way to send a code is left.",
  unavailable: "Verification is unavailable right now. Try again in a moment.",
  networkError: "Connection problem. Check your connection and try again.",
  tryAgain: "Try again",
};
