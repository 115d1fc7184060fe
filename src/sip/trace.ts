/**
 * The SIP message trace (`SIP_TRACE`): every message a trunk's UAC sends or receives, as text, made in the UAC's
 * thread and handed over in the batches that already carry its call records, so tracing never adds a message per
 * SIP message between threads.
 *
 * A trace goes to logs, which travel further than the database: `redacted` (SIP_TRACE=on) takes out what a log
 * reader must not learn. Digest answers (Authorization, Proxy-Authorization) are replayable credentials; the
 * STIR/SHAKEN PASSporT (Identity) is a signed claim carrying the caller ID; and the caller ID itself is the code of
 * a live verification, so the user parts of From, P-Asserted-Identity and their kin keep their shape (format, tech
 * prefix, the public prefix the pattern shows) with their last digits masked. `full` (SIP_TRACE=full) leaves
 * messages as they are, for an interop session on a test line.
 *
 * @example
 * redactSipMessage('INVITE sip:+447400123456@carrier SIP/2.0\r\nFrom: <sip:+442079412345@us>;tag=1\r\n\r\n');
 * // 'INVITE sip:+447400123456@carrier SIP/2.0\r\nFrom: <sip:+442079******@us>;tag=1\r\n\r\n'
 */

export type SipTraceMode = "redacted" | "full";

/** One message as the trace shows it. */
export interface SipTraceEntry {
  /** epoch ms, in the UAC's thread */
  at: number;
  /** `out`: we sent it; `in`: the trunk did */
  dir: "out" | "in";
  /** the first line: request line or status line */
  first: string;
  /** the whole message (redacted unless the mode is `full`) */
  text: string;
}

/** Digits masked at the end of a caller ID: the longest code a pool uses (6), whatever this pool's length. */
const MASKED_DIGITS = 6;

/** Headers whose whole value is a credential or a signed claim (names lower-case; compact forms included). */
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "identity", "y"]);
/** Headers whose URI user part (and display name) is the caller ID; `f` is From's compact form. */
const CALLER_HEADERS = new Set([
  "from",
  "f",
  "p-asserted-identity",
  "p-preferred-identity",
  "remote-party-id",
  "privacy-asserted-identity",
]);

/** The trace entry of one message, redacted per `mode`. */
export function traceEntry(dir: "out" | "in", data: Buffer | string, mode: SipTraceMode, at: number): SipTraceEntry {
  const raw = typeof data === "string" ? data : data.toString("utf8");
  const text = mode === "full" ? raw : redactSipMessage(raw);
  const end = text.indexOf("\r\n");
  return { at, dir, first: end < 0 ? text : text.slice(0, end), text };
}

/** A SIP message with its secrets and caller IDs taken out; the body (no flash call has one) is left as it is. */
export function redactSipMessage(message: string): string {
  // Bare LF line ends are tolerated by parsers, so they must not let a header slip through unredacted.
  const split = /\r?\n\r?\n/.exec(message);
  const head = split ? message.slice(0, split.index) : message;
  const body = split ? message.slice(split.index) : "";
  const lines = head.split(/\r?\n/);
  // A header folded onto further lines (RFC 3261 §7.3.1) is judged by the header it continues.
  let folded: "secret" | "caller" | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^[ \t]/.test(line)) {
      if (folded === "secret") lines[i] = " <redacted>";
      else if (folded === "caller") lines[i] = maskCaller(line);
      continue;
    }
    folded = null;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (SECRET_HEADERS.has(name)) {
      lines[i] = `${line.slice(0, colon)}: ${redactSecret(name, line.slice(colon + 1))}`;
      folded = "secret";
    } else if (CALLER_HEADERS.has(name)) {
      lines[i] = `${line.slice(0, colon)}:${maskCaller(line.slice(colon + 1))}`;
      folded = "caller";
    }
  }
  return lines.join("\r\n") + body;
}

/** Keeps what names the scheme and where a claim comes from, never the answer or the token. */
function redactSecret(name: string, value: string): string {
  const v = value.trim();
  if (name === "identity" || name === "y") {
    const params = v.indexOf(";");
    return `<redacted>${params < 0 ? "" : v.slice(params)}`;
  }
  const scheme = v.split(/\s+/, 1)[0] ?? "";
  return `${scheme} <redacted>`;
}

/** Masks the last digits of every URI user part and drops a quoted display name (it may repeat the number). */
function maskCaller(value: string): string {
  return value
    .replace(/"(?:[^"\\]|\\.)*"/g, '"<redacted>"')
    .replace(/(sips?:)([^@;>\s]+)(?=@)/gi, (_, scheme: string, user: string) => scheme + maskDigits(user))
    .replace(/(tel:)([^;>\s]+)/gi, (_, scheme: string, user: string) => scheme + maskDigits(user));
}

function maskDigits(user: string): string {
  let left = MASKED_DIGITS;
  const chars = [...user];
  for (let i = chars.length - 1; i >= 0 && left > 0; i--) {
    if (/[0-9]/.test(chars[i] as string)) {
      chars[i] = "*";
      left--;
    }
  }
  return chars.join("");
}
