/**
 * The OpenAPI transform: fastify-type-provider-zod's, plus responses that are not JSON. A route whose answer is a
 * file (a sandbox call's WAV) declares it by media type, `{ description, content: { "audio/wav": { schema } } }`,
 * which the zod transform refuses (it reads every response as one zod schema); those are converted here and the
 * route's other responses are left to it.
 */
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { type ZodType, z } from "zod";

type Transform = typeof jsonSchemaTransform;

interface MediaResponse {
  description: string;
  content: Record<string, { schema: ZodType }>;
}

export const openApiTransform: Transform = (input) => {
  const response = input.schema?.response as Record<string, unknown> | undefined;
  const media = Object.entries(response ?? {}).filter((entry): entry is [string, MediaResponse] =>
    isMediaResponse(entry[1]),
  );
  if (!response || media.length === 0) return jsonSchemaTransform(input);
  const rest = Object.fromEntries(Object.entries(response).filter(([, r]) => !isMediaResponse(r)));
  const out = jsonSchemaTransform({ ...input, schema: { ...input.schema, response: rest } });
  const documented = (out.schema.response ?? {}) as Record<string, unknown>;
  for (const [status, { description, content }] of media) {
    documented[status] = {
      description,
      content: Object.fromEntries(
        Object.entries(content).map(([type, { schema }]) => {
          const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: "output", unrepresentable: "any" });
          return [type, { schema: json }];
        }),
      ),
    };
  }
  return { ...out, schema: { ...out.schema, response: documented } };
};

function isMediaResponse(value: unknown): value is MediaResponse {
  return typeof value === "object" && value !== null && !(value instanceof z.ZodType) && "content" in value;
}
