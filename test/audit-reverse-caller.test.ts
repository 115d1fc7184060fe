/**
 * Who called, as the trunk asserts it. A P-Asserted-Identity is the network's word for the caller; From is whatever
 * the calling device wrote. When the trunk asserts an identity that is no number (withheld: `anonymous`, or a SIP
 * user), the From the caller chose must not stand in for it: a phone's own number in From would verify its
 * reverse flash call for anyone. Without any P-Asserted-Identity, From is all there is and is read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RawPeer } from "./sipp/raw-peer.js";
import { auth, createTestApp, type TestApp } from "./support/test-app.js";

const LISTENER = "127.0.26.20";
const TRUNK = "127.0.26.21";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

let t: TestApp;
let trunk: RawPeer;
beforeAll(async () => {
  t = await createTestApp({
    INBOUND_NUMBERS: "+442079460966",
    INBOUND_SIP_ADDRESS: LISTENER,
    INBOUND_TRUSTED_SOURCES: TRUNK,
    SANDBOX_SIP_ADDRESS: "127.0.26.22",
    SIP_LOCAL_ADDRESS: "127.0.26.22",
  });
  trunk = await RawPeer.create(TRUNK);
});
afterAll(async () => {
  await t?.close();
  await trunk?.close();
});

async function start(phone: string): Promise<Json> {
  const payload = { phone, workflow: [{ channel: "reverse_flashcall" }] };
  const res = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

let n = 0;
/** The trunk delivers a call to `dialled` with this From and (when given) P-Asserted-Identity; resolves its answer. */
async function call(dialled: string, from: string, asserted: string | null): Promise<number> {
  n++;
  const local = (t.services.messageChannels.reverse_flashcall as unknown as { local: { port: number } }).local;
  const branch = `z9hG4bK-audit-caller-${n}`;
  const lines = [
    `INVITE sip:${dialled}@${LISTENER} SIP/2.0`,
    `Via: SIP/2.0/UDP ${TRUNK}:${trunk.port};branch=${branch}`,
    `From: ${from};tag=f${n}`,
    `To: <sip:${dialled}@${LISTENER}>`,
    ...(asserted ? [`P-Asserted-Identity: ${asserted}`] : []),
    `Call-ID: audit-caller-${n}`,
    "CSeq: 1 INVITE",
    "Content-Length: 0",
    "",
    "",
  ];
  const target = { address: LISTENER, port: local.port };
  trunk.send(lines.join("\r\n"), target);
  const found = await waitFor(() =>
    trunk.received.find((r) => r.msg.callId === `audit-caller-${n}` && (r.msg.status ?? 0) >= 300),
  );
  trunk.send(lines.join("\r\n").replace("INVITE sip:", "ACK sip:").replace("1 INVITE", "1 ACK"), target);
  return found.msg.status as number;
}

async function waitFor<T>(probe: () => T | undefined, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("no final response");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const read = async (id: string): Promise<Json> =>
  (await t.app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() })).json();

describe("the reverse flash call's caller ID", () => {
  it("is not taken from From when the trunk asserts an identity that is no number", async () => {
    const phone = "+447400126001";
    const started = await start(phone);
    const dial = started.reverse_flashcall.dial as string;
    for (const asserted of ["<sip:anonymous@anonymous.invalid>", "<sip:alice@carrier.example>"]) {
      expect(await call(dial, `<sip:${phone}@${TRUNK}>`, asserted)).toBe(603);
    }
    expect(await read(started.id)).toMatchObject({ status: "pending", verified_caller_id: null });
  });

  it("is read from From when there is no P-Asserted-Identity, and from the asserted number over From", async () => {
    const phone = "+447400126002";
    const started = await start(phone);
    const dial = started.reverse_flashcall.dial as string;
    expect(await call(dial, "<sip:+447400999999@h>", `<sip:${phone}@${TRUNK}>`)).toBe(603);
    expect(await read(started.id)).toMatchObject({ status: "verified", verified_caller_id: phone });
    const other = "+447400126003";
    const second = await start(other);
    expect(await call(second.reverse_flashcall.dial, `<sip:${other}@${TRUNK}>`, null)).toBe(603);
    expect(await read(second.id)).toMatchObject({ status: "verified", verified_caller_id: other });
  });
});
