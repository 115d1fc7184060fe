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
];

/** The test numbers' E.164 forms, for the fraud controls' exemption. */
export const TEST_NUMBER_SET: ReadonlySet<string> = new Set(TEST_NUMBERS.map((t) => t.phone));
