/**
 * The OpenAPI document's examples (src/api/openapi-examples.ts): drawn from the schemas, plausible, and accepted.
 * Every request example is sent to the server as it stands in the document and passes its schema; no example holds
 * a value a generator invents from bounds alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, TEST_KEY, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: the document is walked field by field and asserted
type Json = Record<string, any>;

describe("the OpenAPI document's examples", () => {
  let t: TestApp;
  let doc: Json;
  beforeAll(async () => {
    t = await createTestApp({ SANDBOX_SIP_ADDRESS: "127.0.0.120", SIP_LOCAL_ADDRESS: "127.0.0.120" });
    doc = (await t.app.inject({ url: "/openapi.json" })).json();
  });
  afterAll(() => t.close());

  const operations = () =>
    Object.entries(doc.paths as Json).flatMap(([path, ops]) =>
      Object.entries(ops as Json).map(([method, op]) => ({ path, method, op: op as Json })),
    );

  it("gives every request body and successful JSON answer an example", () => {
    for (const { path, method, op } of operations()) {
      const body = op.requestBody?.content?.["application/json"];
      if (body) expect(body.example, `${method} ${path}`).toBeTypeOf("object");
      const ok = Object.entries(op.responses as Json).find(([status]) => status.startsWith("2"))?.[1];
      const answer = ok?.content?.["application/json"];
      if (answer) expect(answer.example, `${method} ${path} answer`).toBeDefined();
    }
  });

  it("holds no invented values: no 2^53 bounds, no country from a pattern", () => {
    const text = JSON.stringify(operations().map(({ op }) => op));
    const examples = [...text.matchAll(/"example":((?:[^{}]|\{[^{}]*\})*)/g)].map((m) => m[1]).join("\n");
    expect(examples).not.toContain("9007199254740991");
    expect(examples).not.toMatch(/"country":"(?!GB")/);
    const start = doc.paths["/v1/verifications"].post.requestBody.content["application/json"].example;
    expect(start).toMatchObject({ phone: "+447400123456", country: "GB", client: { ip: "203.0.113.7" } });
    const started = doc.paths["/v1/verifications"].post.responses["201"].content["application/json"].example;
    expect(started.flashcall.code_length).toBe(4);
    expect(started.id).toMatch(/^ver_/);
  });

  it("lists the 503 a check answers when the fraud controls cannot decide (FRAUD_CHECK_UNAVAILABLE)", () => {
    for (const [path, method] of [
      ["/v1/verifications/{id}/check", "post"],
      ["/verification/v1/verifications/id/{id}", "put"],
      ["/verification/v1/verifications/number/{endpoint}", "put"],
    ] as const) {
      expect(Object.keys(doc.paths[path][method].responses), `${method} ${path}`).toContain("503");
    }
  });

  it("documents a sandbox recording as audio/wav with the 400 and 404 the route answers", async () => {
    const op = doc.paths["/sandbox/phones/{phone}/recordings/{file}"].get;
    expect(Object.keys(op.responses).sort()).toEqual(["200", "400", "404"]);
    expect(op.responses["200"].content).toEqual({
      "audio/wav": { schema: expect.objectContaining({ type: "string", format: "binary" }) },
    });
    const error = (status: string) => op.responses[status].content["application/json"].schema;
    expect(error("400").properties.error.required).toEqual(expect.arrayContaining(["code", "message", "request_id"]));
    expect(error("404")).toEqual(error("400"));
    for (const [url, status, code] of [
      ["/sandbox/phones/not-a-number/recordings/x.wav", 400, "INVALID_PHONE_NUMBER"],
      ["/sandbox/phones/%2B447400123456/recordings/no-such-call.wav", 404, "NOT_FOUND"],
    ] as const) {
      const res = await t.app.inject({ url });
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
  });

  it("sends every request example to the server, and each passes its schema", async () => {
    const refused: string[] = [];
    for (const { path, method, op } of operations()) {
      const body = op.requestBody?.content?.["application/json"]?.example;
      if (body === undefined) continue;
      const params = Object.fromEntries(
        ((op.parameters ?? []) as Json[]).map((p) => [p.name, String(p.example)] as const),
      );
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? ""));
      const headers: Record<string, string> = { authorization: `Bearer ${TEST_KEY}` };
      if (params["x-authorization-key"]) headers["x-authorization-key"] = TEST_KEY;
      const res = await t.app.inject({ method: method.toUpperCase() as "POST", url, headers, payload: body });
      if (res.statusCode === 400) refused.push(`${method} ${path}: ${res.body}`);
    }
    expect(refused).toEqual([]);
  });
});

describe("an error an app developer meets first", () => {
  it("URL_NOT_ALLOWED names the setting that allows private addresses in development", async () => {
    const t = await createTestApp({ SANDBOX_SIP_ADDRESS: "127.0.0.120", SIP_LOCAL_ADDRESS: "127.0.0.120" });
    try {
      const res = await t.app.inject({
        method: "POST",
        url: "/v1/webhook-endpoints",
        headers: { authorization: `Bearer ${TEST_KEY}` },
        payload: { url: "http://127.0.0.1:3000/webhooks/flashverify" },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json().error).toMatchObject({ code: "URL_NOT_ALLOWED" });
      expect(res.json().error.message).toContain("WEBHOOK_ALLOW_PRIVATE=loopback");
    } finally {
      await t.close();
    }
  });
});
