/**
 * The API reference: every operation of the server's OpenAPI document (/openapi.json, generated from the same zod
 * schemas that validate requests), grouped by tag, with its parameters, fields, answers, and an example request
 * and answer drawn from the schemas (src/api/openapi-examples.ts).
 */
import { useEffect, useState } from "preact/hooks";
import { type FieldRow, fieldRows, type Schema, typeText } from "./schema-fields.js";

interface Operation {
  method: string;
  path: string;
  id: string;
  op: Schema;
}

const STATUS_TEXT: Record<string, string> = {
  "200": "OK",
  "201": "Created",
  "202": "Accepted",
  "204": "No content",
  "400": "Invalid request",
  "401": "Unauthorized: no key, or a key that does not open this",
  "403": "Forbidden or refused by the fraud controls",
  "404": "Not found",
  "409": "Conflict",
  "413": "Body too large",
  "422": "Cannot be done for this number or state",
  "429": "Rate limited (see Retry-After)",
  "503": "Unavailable for a moment (see Retry-After)",
};

const slug = (method: string, path: string) => `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-").replace(/-$/, "");

function operationsByTag(doc: Schema): [string, Operation[]][] {
  const tags = new Map<string, Operation[]>();
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Schema>)) {
    for (const [method, op] of Object.entries(methods as Record<string, Schema>)) {
      const tag: string = op.tags?.[0] ?? "other";
      if (!tags.has(tag)) tags.set(tag, []);
      tags.get(tag)?.push({ method: method.toUpperCase(), path, id: slug(method, path), op });
    }
  }
  return [...tags.entries()];
}

export function ReferencePage() {
  const [doc, setDoc] = useState<Schema | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    fetch("/openapi.json")
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${r.status} ${r.statusText}`))))
      .then(setDoc, (error: Error) => setFailed(error.message));
  }, []);
  // The document arrives after the first paint: a link to an operation (#post-v1-verifications) is followed then.
  useEffect(() => {
    if (doc && location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  }, [doc]);
  const groups = doc ? operationsByTag(doc) : [];
  return (
    <div class="ref">
      <header class="ref-header">
        <p class="ref-brand">flashverify</p>
        <nav aria-label="Pages">
          <ul>
            <li>
              <a href="/dashboard">Dashboard</a>
            </li>
            <li>
              <a href="/openapi.json">OpenAPI document</a>
            </li>
          </ul>
        </nav>
      </header>
      <div class="ref-layout">
        {groups.length > 0 && (
          <nav class="ref-toc" aria-label="Operations">
            {groups.map(([tag, ops]) => (
              <div key={tag}>
                <p class="ref-toc-tag">{tag}</p>
                <ul>
                  {ops.map((o) => (
                    <li key={o.id}>
                      <a href={`#${o.id}`}>
                        <span class={`ref-method ref-method-${o.method.toLowerCase()}`}>{o.method}</span> {o.path}
                      </a>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </nav>
        )}
        <main class="ref-main">
          <h1>API reference</h1>
          <Introduction />
          {failed && <p role="alert">The OpenAPI document could not be read: {failed}</p>}
          {!doc && !failed && <p>Loading the OpenAPI document…</p>}
          {groups.map(([tag, ops]) => (
            <section key={tag} aria-labelledby={`tag-${tag}`}>
              <h2 id={`tag-${tag}`} class="ref-tag">
                {tag}
              </h2>
              {ops.map((o) => (
                <OperationView key={o.id} operation={o} />
              ))}
            </section>
          ))}
        </main>
      </div>
    </div>
  );
}

function Introduction() {
  const base = location.origin;
  return (
    <div class="ref-intro">
      <p>
        Every request and answer is JSON with snake_case fields. Backends authenticate with an API key,{" "}
        <code>Authorization: Bearer fv_…</code> (create one with <code>npm run -s flashverify -- keys create</code>); an
        app or browser uses the verification's <code>client_token</code> the same way, for its own verification only.
        POSTs that send something take an <code>Idempotency-Key</code> header.
      </p>
      <p>
        Errors always have the same shape, with a stable code:{" "}
        <code>{`{"error": {"code": "RATE_LIMITED", "message": "…", "request_id": "req_…", "details": {"limit": "ip"}}}`}</code>
        . This server: <code>{base}</code>.
      </p>
    </div>
  );
}

function OperationView({ operation }: { operation: Operation }) {
  const { method, path, op, id } = operation;
  const parameters: Schema[] = op.parameters ?? [];
  const body = op.requestBody?.content?.["application/json"];
  const responses = Object.entries((op.responses ?? {}) as Record<string, Schema>);
  const success = responses.find(([status]) => status.startsWith("2"));
  const successBody = success?.[1].content?.["application/json"];
  const secured = (op.security ?? []).length > 0;
  return (
    <article class="ref-op" id={id} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        <span class={`ref-method ref-method-${method.toLowerCase()}`}>{method}</span> <code>{path}</code>
      </h3>
      {op.summary && <p class="ref-summary">{op.summary}</p>}
      {op.description && <p>{op.description}</p>}
      {parameters.length > 0 && (
        <FieldsTable
          caption="Parameters"
          rows={parameters.map((p) => ({
            name: `${p.name} (${p.in})`,
            type: typeText(p.schema),
            required: Boolean(p.required),
            description: p.description ?? "",
          }))}
        />
      )}
      {body && <FieldsTable caption="Request body" rows={fieldRows(body.schema)} />}
      {(body || method === "GET" || method === "DELETE" || parameters.length > 0) && (
        <Example title="Example request" text={curlOf(operation, secured)} />
      )}
      <h4>Answers</h4>
      <ul class="ref-answers">
        {responses.map(([status]) => (
          <li key={status}>
            <code>{status}</code> {STATUS_TEXT[status] ?? ""}
          </li>
        ))}
      </ul>
      {successBody?.example !== undefined && (
        <Example title={`Example answer (${success?.[0]})`} text={JSON.stringify(successBody.example, null, 2)} />
      )}
    </article>
  );
}

function FieldsTable({ caption, rows }: { caption: string; rows: FieldRow[] }) {
  if (rows.length === 0) return null;
  return (
    <div class="ref-table">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name}>
              <th scope="row">
                <code>{r.name}</code>
                {r.required && <span class="ref-required"> required</span>}
              </th>
              <td>{r.type}</td>
              <td>{r.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Example({ title, text }: { title: string; text: string }) {
  return (
    <figure class="ref-example">
      <figcaption>{title}</figcaption>
      {/* Focusable so a keyboard can scroll a long line. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
      <pre tabIndex={0}>
        <code>{text}</code>
      </pre>
    </figure>
  );
}

/** The example as a curl command against this server: path parameters and required query parameters filled in. */
function curlOf({ method, path, op }: Operation, secured: boolean): string {
  const parameters: Schema[] = op.parameters ?? [];
  const value = (name: string) => String(parameters.find((p) => p.name === name)?.example ?? name);
  const filled = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(value(name)));
  const query = parameters
    .filter((p) => p.in === "query" && p.required)
    .map((p) => `${p.name}=${encodeURIComponent(String(p.example))}`)
    .join("&");
  const lines = [`curl -X ${method} '${location.origin}${filled}${query ? `?${query}` : ""}'`];
  if (secured) lines.push(`-H "Authorization: Bearer $KEY"`);
  const body = op.requestBody?.content?.["application/json"]?.example;
  if (body !== undefined) {
    lines.push("-H 'Content-Type: application/json'");
    lines.push(`-d '${JSON.stringify(body)}'`);
  }
  return lines.join(" \\\n  ");
}
