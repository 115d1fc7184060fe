/**
 * Examples in the OpenAPI document, drawn from each schema and the field's name: a phone number looks like one, a
 * country is GB, an id has its type's prefix, a count is small. Generic generators invent values from types and
 * bounds alone (`"country": "KL"` from a pattern, `9007199254740991` from an integer's range), which teach nothing.
 * A schema's own `example`, `examples` or `default` always wins. test/api-reference.test.ts sends every request
 * example to the server: each passes its schema.
 */

type Schema = Record<string, unknown> & {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  additionalProperties?: boolean | Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  format?: string;
};

const AT = "2026-12-07T14:05:09.000Z";

/** Values by field name, for names whose meaning the type does not carry. */
const BY_NAME: Record<string, unknown> = {
  phone: "+447400123456",
  country: "GB",
  email: "you@example.com",
  address: "you@example.com",
  caller_id: "+442079412345",
  dial: "+442079460999",
  to: "+442079460999",
  code: "1234",
  pattern: "+44207941****",
  cli_filter: "^(?:(?:\\+|00)?44207941|0207941)\\d{4}$",
  client_token: "ct_vTFYq3kz9RbX2mWc7LpN4sHd",
  ip: "203.0.113.7",
  device_id: "device-4f3a9c",
  user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)",
  app_version: "2.4.1",
  reference: "signup-8841",
  url: "https://app.example.com/webhooks/flashverify",
  secret: "whsec_MfKQ9r8GdLhQ7Ppa2Oq5Lw9v",
  key: "fv_3kT9vYqZ8mWc2LpN4sHdRbX7aFgJ0eUi",
  label: "production backend",
  name: "My app",
  description: "sign-up backend",
  trunk: "carrier-a",
  reason: "ringing_canceled",
  prefix: "+4474001",
  value: "+447400123456",
  numbers: ["+44207946xxxx"],
  countries: ["GB"],
  event_types: ["verification.verified", "verification.failed"],
  code_length: 4,
  attempts_remaining: 3,
  timeout: 60,
  timeout_ms: 2000,
  overlap_seconds: 3600,
  expires_in_seconds: 86_400,
  limit: 50,
  total: 0.0115,
  cost: 0.0115,
  sms_only: 0.04,
  saving: 0.0285,
  weight: 0.2,
  verified_caller_id: "+442079412345",
  sip_reason: 'SIP;cause=487;text="Request Terminated"',
  detail: "2 starts from this IP in 10 minutes",
  platform: "ios",
  step: 0,
  buckets: 24,
  size: 10_000,
  guess_probability: 0.0003,
  score: 0.12,
  sip_code: 487,
  post_dial_delay_ms: 1840,
  status_code: 200,
  latency_ms: 84,
  locale: "pt-BR",
  language: "es",
  default_language: "es",
  android_app_hash: "FA+9qCX9VSu",
  webotp_host: "app.example.com",
  template_name: "verification_code",
  language_code: "pt_BR",
};

/** Id prefixes of the `id` inside an object held by a field of this name. */
const ID_IN: Record<string, string> = {
  verification: "ver",
  attempts: "att",
  attempt: "att",
  endpoint: "whe",
  endpoints: "whe",
  deliveries: "whd",
  delivery: "whd",
  application: "app",
  applications: "app",
  keys: "key",
  key: "key",
  pools: "pool",
  events: "evt",
  rules: "frd",
};

/** Id prefixes by the field (or path) that holds the id. */
const ID_PREFIX: Record<string, string> = {
  verification_id: "ver",
  attempt_id: "att",
  application_id: "app",
  endpoint_id: "whe",
  delivery_id: "whd",
  rule_id: "frd",
  pool_id: "pool",
  key_id: "key",
};

const idOf = (prefix: string) => `${prefix}_01kc3v8z6q9w2e4r7t1y5u8i0o`;

/** A plausible value for `schema`, the value of the field `name` (or of an item of it). */
export function exampleOf(schema: Schema | undefined, name = "", idPrefix = ""): unknown {
  if (!schema) return undefined;
  if ("example" in schema) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ("default" in schema && schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum.find((v) => v !== null) ?? null;
  const choice = schema.anyOf ?? schema.oneOf;
  if (choice) return exampleOf(choice.find((s) => s.type !== "null" && !s.enum?.includes(null)) ?? choice[0], name);
  const known = BY_NAME[name];
  if (known !== undefined && fits(known, schema.type)) return known;
  switch (schema.type) {
    case "object":
      return objectExample(schema, ID_IN[name] ?? idPrefix, MAP_KEY[name] ?? "example");
    case "array": {
      const item = exampleOf(schema.items, name, ID_IN[name] ?? idPrefix);
      return item === undefined ? [] : [item];
    }
    case "string":
      return stringExample(schema, name, idPrefix);
    case "integer":
      return numberExample(schema, 1);
    case "number":
      return numberExample(schema, 0.5);
    case "boolean":
      return true;
    default:
      return null;
  }
}

/** Whether a value by name suits the schema's type (an integer is also a number). */
function fits(value: unknown, type: string | undefined): boolean {
  if (type === undefined) return true;
  if (Array.isArray(value)) return type === "array";
  if (typeof value === "number") return type === "number" || (type === "integer" && Number.isInteger(value));
  return typeof value === type;
}

/** The key of the one entry shown in a map (an object of any keys), by the map's name. */
const MAP_KEY: Record<string, string> = {
  metadata: "plan",
  failure_reasons: "busy",
  risk_outcomes: "allow",
  attempts: "flashcall",
  headers: "X-Account-Id",
};

function objectExample(schema: Schema, idPrefix: string, mapKey: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    out[key] = exampleOf(property, key, key === "id" ? idPrefix : "");
  }
  // A map such as `metadata`: one entry shows its shape.
  if (!schema.properties && typeof schema.additionalProperties === "object") {
    out[mapKey] = exampleOf(schema.additionalProperties, mapKey) ?? "pro";
  }
  return out;
}

function stringExample(schema: Schema, name: string, idPrefix: string): string {
  if (schema.format === "date-time" || name.endsWith("_at") || ["timestamp", "from", "to", "start"].includes(name)) {
    return AT;
  }
  if (schema.format === "email") return "you@example.com";
  if (schema.format === "uri" || name.endsWith("_url")) return "https://app.example.com/flashverify";
  if (name === "id" && idPrefix) return idOf(idPrefix);
  const prefix = ID_PREFIX[name];
  if (prefix) return idOf(prefix);
  if (name === "plan") return "pro";
  const text = name ? name.replace(/_/g, "-") : "text";
  return text.length >= (schema.minLength ?? 0) ? text : text.padEnd(schema.minLength ?? 0, "x");
}

/** Within the schema's bounds, ignoring the ±2^53 bounds that stand for "any safe integer". */
function numberExample(schema: Schema, fallback: number): number {
  const real = (bound: number | undefined) =>
    bound !== undefined && Math.abs(bound) < Number.MAX_SAFE_INTEGER ? bound : undefined;
  const min = real(schema.minimum);
  const max = real(schema.maximum);
  if (min !== undefined && fallback < min) return min;
  if (max !== undefined && fallback > max) return max;
  return fallback;
}

interface Operation {
  parameters?: (Record<string, unknown> & { name: string; in: string; schema?: Schema })[];
  requestBody?: { content?: Record<string, { schema?: Schema; example?: unknown }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema; example?: unknown }> }>;
}

/** The id prefix of the resource a path names: /v1/webhook-endpoints/{id} holds `whe_` ids. */
function pathIdPrefix(path: string): string {
  if (path.includes("/webhook-endpoints")) return "whe";
  if (path.includes("/verifications")) return "ver";
  if (path.includes("/api-keys")) return "key";
  if (path.includes("/pools")) return "pool";
  if (path.includes("/blocks") || path.includes("/allowlist")) return "frd";
  if (path.includes("/applications")) return "app";
  if (path.includes("/events")) return "evt";
  return "";
}

/** Adds an example to every parameter, request body and response of the document, in place; returns it. */
export function addExamples<T extends { paths?: object }>(doc: T): T {
  for (const [path, operations] of Object.entries((doc.paths ?? {}) as Record<string, object>)) {
    const prefix = pathIdPrefix(path);
    for (const operation of Object.values(operations) as Operation[]) {
      for (const parameter of operation.parameters ?? []) {
        const idLike = parameter.in === "path" && parameter.name === "id";
        parameter.example ??= idLike ? idOf(prefix) : exampleOf(parameter.schema, parameter.name, prefix);
      }
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        media.example ??= exampleOf(media.schema, "", prefix);
      }
      for (const response of Object.values(operation.responses ?? {})) {
        for (const media of Object.values(response.content ?? {})) {
          // A file (a WAV) has no example a reader could use: any text would be no such file.
          if (media.schema?.format !== "binary") media.example ??= exampleOf(media.schema, "", prefix);
        }
      }
    }
  }
  return doc;
}
