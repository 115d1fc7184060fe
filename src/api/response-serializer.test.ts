import { describe, expect, it } from "vitest";
import { checkedSerializerCompiler, compiledSerializerCompiler } from "./response-serializer.js";
import { ErrorView, type VerificationJson, VerificationView } from "./views.js";

const route = { method: "GET", url: "/v1/verifications/:id", httpStatus: "200" };

const verification: VerificationJson = {
  id: "ver_1",
  status: "pending",
  reason: null,
  phone: "+447400123456",
  country: "GB",
  channel: "flashcall",
  workflow: [{ channel: "flashcall", timeout: 60 }],
  step: 0,
  next_step_at: "2026-01-01T00:01:00.000Z",
  reference: 'quote " backslash \\ newline \n and \u2028',
  metadata: { plan: "pro", seats: 3, trial: false, note: null },
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
  expires_at: "2026-01-01T00:02:00.000Z",
  ended_at: null,
  attempts_remaining: 3,
  guess_probability: 0.0003,
  flashcall: { pattern: "+44207941****", code_length: 4, cli_filter: "^\\+?44207941\\d{4}$" },
  message: null,
  reverse_flashcall: null,
  cost: { currency: "USD", total: 0.004, sms_only: 0.0415, saving: 0.0375 },
  verified_caller_id: null,
  attempts: [
    {
      id: "att_1",
      channel: "flashcall",
      status: "dialing",
      reason: null,
      sip_code: null,
      created_at: "2026-01-01T00:00:00.000Z",
      dialed_at: null,
      ringing_at: null,
      ended_at: null,
      post_dial_delay_ms: null,
      trunk: "carrier-a",
      sip_reason: null,
      detail: null,
      cost: 0.004,
      expires_at: "2026-01-01T00:02:00.000Z",
      phone_report: null,
    },
  ],
  client: { ip: "203.0.113.7", platform: "android" },
  risk: null,
  channel_choice: null,
  refusal: null,
  review_number_id: null,
  redaction: null,
};

describe("compiled response serializers", () => {
  it("write exactly what JSON.stringify of zod's output writes", () => {
    const write = compiledSerializerCompiler({ schema: VerificationView, ...route });
    expect(write(verification)).toBe(JSON.stringify(VerificationView.parse(verification)));
    const error = { error: { code: "NOT_FOUND", message: "No such thing.", request_id: "req_1", details: { a: 1 } } };
    expect(compiledSerializerCompiler({ schema: ErrorView, ...route })(error)).toBe(JSON.stringify(error));
  });

  it("leave out fields the schema does not declare, at every depth, as zod's parse does", () => {
    const write = compiledSerializerCompiler({ schema: VerificationView, ...route });
    const leaky = {
      ...verification,
      clientTokenHash: "secret",
      attempts: [{ ...verification.attempts[0], codeMac: "secret" }],
      client: { ...verification.client, fingerprint: "secret" },
    };
    expect(write(leaky)).not.toContain("secret");
    expect(JSON.parse(write(leaky))).toEqual(JSON.parse(JSON.stringify(VerificationView.parse(leaky))));
  });
});

describe("checked response serializers (the test apps')", () => {
  const write = checkedSerializerCompiler({ schema: VerificationView, ...route });

  it("pass an answer that matches its schema", () => {
    expect(write(verification)).toBe(JSON.stringify(verification));
  });

  it("fail an answer that breaks its schema, which the compiled serializer alone would write", () => {
    const breaking: unknown[] = [
      { ...verification, status: "done" },
      { ...verification, message: undefined },
      { ...verification, step: 1.5 },
      { ...verification, id: 7 },
      { ...verification, attempts: [{ ...verification.attempts[0], channel: "pigeon" }] },
    ];
    for (const answer of breaking) {
      expect(() => write(answer)).toThrow(/GET \/v1\/verifications\/:id 200 breaks its schema/);
    }
    // Without the check these would go out quietly: an unknown status as is, a fraction cut to an integer.
    const compiled = compiledSerializerCompiler({ schema: VerificationView, ...route });
    expect(JSON.parse(compiled(breaking[0]))).toMatchObject({ status: "done" });
    expect(JSON.parse(compiled(breaking[2]))).toMatchObject({ step: 1 });
  });
});
