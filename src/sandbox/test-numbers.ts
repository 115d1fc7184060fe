/**
 * The sandbox's test numbers (README "Sandbox test numbers"): the virtual handsets and SMSC decide what happens by
 * the number's last four digits, so a visitor can watch each outcome, and the fallback it leads to. The demo page
 * lists them, and while SANDBOX=on they are exempt from the start limits, the risk score and the pumping detector
 * (src/fraud/guard.ts), so trying each of them a few times in a row is never refused. Plain data: the web pages
 * import it too.
 */
export interface TestNumber {
  phone: string;
  name: string;
  what: string;
}

export const TEST_NUMBERS: TestNumber[] = [
  {
    phone: "+447400123456",
    name: "Rings",
    what: "A missed call: type the last 4 digits of the caller ID the phone shows.",
  },
  {
    phone: "+447400120486",
    name: "Busy",
    what: "The phone answers 486 Busy Here: the code goes out by the fallback at once.",
  },
  {
    phone: "+447400120404",
    name: "Not found",
    what: "The carrier answers 404: no such subscriber, so the fallback at once.",
  },
  {
    phone: "+447400120408",
    name: "Unreachable",
    what: "No answer at all: the call times out (64×T1, 32 s), then the fallback.",
  },
  {
    phone: "+447400120200",
    name: "Answers",
    what: "The phone picks up: the caller ID was still shown, so its digits still verify.",
  },
  {
    phone: "+445612345678",
    name: "VoIP",
    what: "A VoIP number has no call log to read: the flash call is skipped, the fallback goes first.",
  },
  {
    phone: "+442079460123",
    name: "Landline",
    what: "No call log and no SMS: the flash call is skipped; a voice call (or email) fallback still reaches it.",
  },
  {
    phone: "+447400120499",
    name: "SMS refused",
    what: "Rings normally; ask for the SMS and the SMSC refuses it (WhatsApp refuses it too).",
  },
  {
    phone: "+447400120498",
    name: "SMS undeliverable",
    what: "Rings normally; the SMS is accepted, then reported undeliverable.",
  },
  {
    phone: "+447520123456",
    name: "Drops flash calls",
    what:
      "Any +447520 number: its operator drops flash calls silently (180, then 487), so the call reads delivered " +
      "and the phone shows nothing. Workflow auto moves this network to another channel once it has measured it.",
  },
  {
    phone: "+447530123456",
    name: "Late calls",
    what: "Any +447530 number: the call shows on the phone 15 s late, usually after the step has moved on.",
  },
];

/**
 * Whole number ranges whose virtual operator treats flash calls badly (src/sandbox/handsets.ts): `dropping` drops
 * them silently, `late` shows them on the phone late. Each is its own destination network for workflow auto.
 */
export const SANDBOX_RANGES: { readonly dropping: readonly string[]; readonly late: readonly string[] } = {
  dropping: ["+447520"],
  late: ["+447530"],
};

const TEST_NUMBER_SET: ReadonlySet<string> = new Set(TEST_NUMBERS.map((t) => t.phone));
const RANGE_PREFIXES = [...SANDBOX_RANGES.dropping, ...SANDBOX_RANGES.late];

/** The test numbers and every number of the test ranges, for the fraud controls' exemption. */
export const SANDBOX_EXEMPT: { has(phone: string): boolean } = {
  has: (phone) => TEST_NUMBER_SET.has(phone) || RANGE_PREFIXES.some((prefix) => phone.startsWith(prefix)),
};
