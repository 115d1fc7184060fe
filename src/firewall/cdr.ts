/**
 * Call detail records in the firewall's CSV format (docs/firewall.md):
 * `call_id,start,caller,callee,source,answered,ring_ms,talk_ms,sip_code`, header line required, columns in any order,
 * extra columns ignored. A malformed row is refused with its line number and the reading goes on, so one bad export
 * line does not cost an operator the whole day's analysis.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** One call as the CDR describes it. */
export interface Cdr {
  callId: string;
  /** epoch milliseconds (UTC) */
  start: number;
  caller: string;
  callee: string;
  source: string;
  answered: boolean;
  ringMs: number;
  talkMs: number;
  sipCode: number;
}

/** A row the reader refused; `line` counts from 1 (the header). */
export interface CdrError {
  line: number;
  message: string;
}

export const CDR_COLUMNS = [
  "call_id",
  "start",
  "caller",
  "callee",
  "source",
  "answered",
  "ring_ms",
  "talk_ms",
  "sip_code",
] as const;

const E164 = /^\+[1-9][0-9]{6,14}$/;
/** ISO 8601 in UTC: a date, a time and `Z` (or +00:00); fractional seconds allowed. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]00:?00)$/;
const NON_NEGATIVE_INT = /^\d{1,10}$/;

/** Column positions of a header line, or an error naming the missing columns. */
export function cdrHeader(line: string): number[] | string {
  const names = splitCsvLine(line).map((n) => n.trim().toLowerCase());
  const positions = CDR_COLUMNS.map((c) => names.indexOf(c));
  const missing = CDR_COLUMNS.filter((_, i) => positions[i] === -1);
  return missing.length ? `header is missing column(s): ${missing.join(", ")}` : positions;
}

/** Parses one data row against the header's positions: a record, or the reason it is refused. */
export function parseCdrRow(line: string, positions: readonly number[]): Cdr | string {
  const fields = splitCsvLine(line);
  const at = (i: number) => (fields[positions[i] as number] ?? "").trim();
  const needed = Math.max(...positions) + 1;
  if (fields.length < needed) return `expected at least ${needed} fields, found ${fields.length}`;
  const callId = at(0);
  if (!callId) return "call_id is empty";
  const startText = at(1);
  const start = ISO_UTC.test(startText) ? Date.parse(startText) : Number.NaN;
  if (Number.isNaN(start)) return `start "${startText}" is not an ISO 8601 UTC time`;
  const caller = at(2);
  if (!E164.test(caller)) return `caller "${caller}" is not E.164`;
  const callee = at(3);
  if (!E164.test(callee)) return `callee "${callee}" is not E.164`;
  const source = at(4);
  if (!source) return "source is empty";
  const answeredText = at(5);
  if (answeredText !== "0" && answeredText !== "1") return `answered "${answeredText}" is not 0 or 1`;
  const ring = at(6);
  const talk = at(7);
  const code = at(8);
  if (!NON_NEGATIVE_INT.test(ring)) return `ring_ms "${ring}" is not a non-negative integer`;
  if (!NON_NEGATIVE_INT.test(talk)) return `talk_ms "${talk}" is not a non-negative integer`;
  if (!/^[1-6]\d\d$/.test(code)) return `sip_code "${code}" is not a SIP status code`;
  const answered = answeredText === "1";
  const talkMs = Number(talk);
  if (!answered && talkMs !== 0) return "talk_ms must be 0 when answered is 0";
  return { callId, start, caller, callee, source, answered, ringMs: Number(ring), talkMs, sipCode: Number(code) };
}

/** Splits a CSV line (RFC 4180 quoting: `"a,b"`, `""` inside quotes). The fast path has no quotes at all. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(field);
      field = "";
    } else field += c;
  }
  out.push(field);
  return out;
}

/**
 * Reads a CDR file line by line: `onRecord` for each good row, `onError` for each refused one (and for a bad header,
 * after which nothing else is read). Blank lines are skipped. Resolves with the counts.
 */
export async function readCdrFile(
  path: string,
  onRecord: (cdr: Cdr) => void,
  onError: (error: CdrError) => void,
): Promise<{ rows: number; refused: number }> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: "utf8" }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  return readCdrLines(lines, onRecord, onError);
}

/** As readCdrFile, over any source of lines (the first is the header). */
export async function readCdrLines(
  lines: AsyncIterable<string> | Iterable<string>,
  onRecord: (cdr: Cdr) => void,
  onError: (error: CdrError) => void,
): Promise<{ rows: number; refused: number }> {
  let lineNo = 0;
  let positions: number[] | null = null;
  let rows = 0;
  let refused = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (positions === null) {
      const header = cdrHeader(line.replace(/^\uFEFF/, ""));
      if (typeof header === "string") {
        onError({ line: lineNo, message: header });
        return { rows: 0, refused: 1 };
      }
      positions = header;
      continue;
    }
    if (line.trim() === "") continue;
    const parsed = parseCdrRow(line, positions);
    if (typeof parsed === "string") {
      refused++;
      onError({ line: lineNo, message: parsed });
    } else {
      rows++;
      onRecord(parsed);
    }
  }
  if (positions === null) {
    onError({ line: 1, message: "empty file: the header line is required" });
    return { rows: 0, refused: 1 };
  }
  return { rows, refused };
}

/** One CSV line of a record, for the generator. */
export function formatCdr(c: Cdr): string {
  return [
    c.callId,
    new Date(c.start).toISOString(),
    c.caller,
    c.callee,
    c.source,
    c.answered ? "1" : "0",
    c.ringMs,
    c.talkMs,
    c.sipCode,
  ].join(",");
}
