/**
 * Response bodies are written by serializers that fast-json-stringify compiles from the JSON Schema of each route's
 * zod response schema: the schema the OpenAPI document shows. Parsing every answer with zod and then calling
 * `JSON.stringify` cost about as much as validating the request, and the server's own views cannot be wrong in
 * ways a client could exploit; a compiled serializer writes only the declared fields, in one pass.
 *
 * What a compiled serializer does not do is check: it would write a missing nullable field as `null` and a number
 * where a string belongs as that number in quotes. `checkedSerializerCompiler` therefore also parses each answer
 * with zod and fails the request when the answer breaks its schema or when the compiled serializer wrote anything
 * but what `JSON.stringify` of zod's output writes. The test apps use it, so every response of every test is held to
 * its schema.
 */
import { isDeepStrictEqual } from "node:util";
import fastJsonStringify from "fast-json-stringify";
import { type ZodType, z } from "zod";

interface SerializerInput {
  schema: unknown;
  method: string;
  url: string;
  httpStatus?: string;
}

type Serializer = (data: unknown) => string;

/** Compiled once per schema: most routes share their error schemas, and tests build many apps. */
const compiledBySchema = new WeakMap<ZodType, Serializer>();

/** The serializer of production: compiled, no checks. */
export function compiledSerializerCompiler({ schema }: SerializerInput): Serializer {
  const zodSchema = zodSchemaOf(schema);
  let compiled = compiledBySchema.get(zodSchema);
  if (!compiled) {
    compiled = fastJsonStringify(jsonSchemaOf(zodSchema) as Parameters<typeof fastJsonStringify>[0]);
    compiledBySchema.set(zodSchema, compiled);
  }
  return compiled;
}

/** The serializer of the tests: the compiled one, checked against zod's parse of every answer. */
export function checkedSerializerCompiler(input: SerializerInput): Serializer {
  const zodSchema = zodSchemaOf(input.schema);
  const compiled = compiledSerializerCompiler(input);
  const route = `${input.method} ${input.url} ${input.httpStatus ?? ""}`.trim();
  return (data) => {
    const parsed = zodSchema.safeParse(data);
    if (!parsed.success) {
      throw new Error(`the answer of ${route} breaks its schema: ${z.prettifyError(parsed.error)}`);
    }
    const written = compiled(data);
    if (!isDeepStrictEqual(JSON.parse(written), JSON.parse(JSON.stringify(parsed.data)))) {
      throw new Error(`the compiled serializer of ${route} wrote ${written}, zod's output differs`);
    }
    return written;
  };
}

function zodSchemaOf(schema: unknown): ZodType {
  if (schema instanceof z.ZodType) return schema;
  throw new Error("a response schema must be a zod schema");
}

/**
 * OpenAPI 3.0's form of the schema, because fast-json-stringify understands its `nullable: true`, while the
 * `anyOf: [..., { type: "null" }]` of the newer drafts would make it run a validator per nullable field.
 */
function jsonSchemaOf(schema: ZodType): unknown {
  return z.toJSONSchema(schema, { io: "output", target: "openapi-3.0", unrepresentable: "any" });
}
