/**
 * A JSON Schema (as the OpenAPI document carries it) as rows of a fields table: nested objects and arrays of
 * objects flattened into dotted names (`client.ip`, `workflow[].channel`), each with its type in words.
 */

// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema is read field by field
export type Schema = Record<string, any>;

export interface FieldRow {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

/** `string, 1-64 characters`, `integer, 5-600`, `one of: flashcall, sms`; the ±2^53 bounds of "any integer" left out. */
export function typeText(schema: Schema | undefined): string {
  if (!schema) return "any";
  const choice: Schema[] | undefined = schema.anyOf ?? schema.oneOf;
  if (choice) return [...new Set(choice.map(typeText))].join(" or ");
  if (schema.enum) {
    const values = schema.enum.map((v: unknown) => (v === null ? "null" : String(v)));
    return values.length === 1 ? values[0] : `one of: ${values.join(", ")}`;
  }
  const type = schema.type === "array" ? `list of ${typeText(schema.items)}` : (schema.type ?? "any");
  const nullable = schema.nullable ? " or null" : "";
  const real = (n: unknown) => (typeof n === "number" && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : undefined);
  const min = real(schema.minimum ?? schema.minLength ?? schema.minItems);
  const max = real(schema.maximum ?? schema.maxLength ?? schema.maxItems);
  const unit = schema.type === "string" ? " characters" : schema.type === "array" ? " items" : "";
  let range = "";
  if (min !== undefined && max !== undefined) range = `, ${min}–${max}${unit}`;
  else if (max !== undefined) range = `, at most ${max}${unit}`;
  else if (min !== undefined && min > 0 && schema.type !== "string") range = `, at least ${min}${unit}`;
  const format = schema.format && schema.type === "string" ? ` (${schema.format})` : "";
  return `${type}${format}${range}${nullable}`;
}

const objectOf = (schema: Schema | undefined): Schema | undefined => {
  if (!schema) return undefined;
  if (schema.type === "object" && schema.properties) return schema;
  if (schema.type === "array") return objectOf(schema.items);
  const choice: Schema[] | undefined = schema.anyOf ?? schema.oneOf;
  return choice?.map(objectOf).find(Boolean);
};

export function fieldRows(schema: Schema | undefined, prefix = "", depth = 0): FieldRow[] {
  const object = objectOf(schema);
  if (!object || depth > 3) return [];
  const required = new Set<string>(object.required ?? []);
  return Object.entries(object.properties as Record<string, Schema>).flatMap(([key, property]) => {
    const name = prefix + key;
    const nested = objectOf(property);
    const row: FieldRow = {
      name,
      type: nested ? (property.type === "array" ? "list of objects" : "object") : typeText(property),
      required: required.has(key),
      description: property.description ?? "",
    };
    return [row, ...fieldRows(property, `${name}${property.type === "array" ? "[]" : ""}.`, depth + 1)];
  });
}
