/**
 * Just enough SIP message parsing and formatting for a flash-call UAC and a handset UAS.
 *
 * A general-purpose parser would build a map of every header and parse every URI; we only need the transaction and
 * dialog headers, so the parser walks the header lines with `indexOf`, keeps the raw values of the headers we use
 * and skips the rest. Values are kept verbatim (UTF-8 decoded), so echoing them back (To, From, Via) is byte-exact.
 */

/** A parsed request or response. Absent headers are `null` (lists are empty). */
export interface SipMessage {
  /** Request method, or "" for a response. */
  method: string;
  /** Request-URI, or "" for a response. */
  uri: string;
  /** Status code, or 0 for a request. */
  status: number;
  reasonPhrase: string;
  /** Every Via value, topmost first, comma-joined values split. */
  via: string[];
  from: string | null;
  to: string | null;
  callId: string | null;
  cseq: number;
  cseqMethod: string;
  contact: string | null;
  recordRoute: string[];
  /** The Reason header (RFC 3326), verbatim. */
  reason: string | null;
  /** WWW-Authenticate and Proxy-Authenticate values (one challenge each), in order; null when none. */
  challenges: string[] | null;
  /** Retry-After's delta-seconds (RFC 3261 §20.33), without its comment and parameters; null when absent. */
  retryAfter: number | null;
  /** The Content-Type, media type only, lower case ("application/sdp"); null when absent. */
  contentType: string | null;
  /** P-Asserted-Identity values (RFC 3325), verbatim, in order; absent when none (inbound INVITEs read them). */
  assertedIdentities?: string[];
  /** The Identity header (RFC 8224), verbatim; absent when none. */
  identity?: string;
  body: string;
}

/** Compact forms (RFC 3261 §7.3.3) of the headers we read. */
const COMPACT: Record<string, string> = {
  v: "via",
  f: "from",
  t: "to",
  i: "call-id",
  m: "contact",
  l: "content-length",
  c: "content-type",
  y: "identity",
};

/**
 * Parses one datagram. Returns null when the start line or header block is malformed; unknown headers are skipped.
 * @example parseMessage("SIP/2.0 180 Ringing\r\nVia: ...\r\n\r\n")?.status // 180
 */
export function parseMessage(text: string): SipMessage | null {
  const firstEnd = text.indexOf("\r\n");
  if (firstEnd <= 0) return null;
  const msg: SipMessage = {
    method: "",
    uri: "",
    status: 0,
    reasonPhrase: "",
    via: [],
    from: null,
    to: null,
    callId: null,
    cseq: 0,
    cseqMethod: "",
    contact: null,
    recordRoute: [],
    reason: null,
    challenges: null,
    retryAfter: null,
    contentType: null,
    body: "",
  };
  if (text.startsWith("SIP/2.0 ")) {
    const status = Number(text.slice(8, 11));
    if (!Number.isInteger(status) || status < 100 || status > 699) return null;
    msg.status = status;
    msg.reasonPhrase = text.slice(12, firstEnd);
  } else {
    const sp1 = text.indexOf(" ");
    const sp2 = text.lastIndexOf(" ", firstEnd);
    if (sp1 <= 0 || sp2 <= sp1 || text.slice(sp2 + 1, firstEnd) !== "SIP/2.0") return null;
    msg.method = text.slice(0, sp1);
    msg.uri = text.slice(sp1 + 1, sp2);
  }

  let pos = firstEnd + 2;
  for (;;) {
    let end = text.indexOf("\r\n", pos);
    if (end < 0) return null; // no empty line ending the headers
    if (end === pos) {
      msg.body = text.slice(end + 2);
      break;
    }
    // Obsolete line folding: continuation lines start with whitespace.
    let next = text.charCodeAt(end + 2);
    let line = text.slice(pos, end);
    while (next === 32 || next === 9) {
      const more = text.indexOf("\r\n", end + 2);
      if (more < 0) return null;
      line += ` ${text.slice(end + 2, more).trim()}`;
      end = more;
      next = text.charCodeAt(end + 2);
    }
    pos = end + 2;
    const colon = line.indexOf(":");
    if (colon <= 0) return null;
    let name = line.slice(0, colon).trimEnd().toLowerCase();
    if (name.length === 1) name = COMPACT[name] ?? name;
    const value = line.slice(colon + 1).trim();
    switch (name) {
      case "via":
        for (const v of splitList(value)) msg.via.push(v);
        break;
      case "from":
        msg.from = value;
        break;
      case "to":
        msg.to = value;
        break;
      case "call-id":
        msg.callId = value;
        break;
      case "cseq": {
        const sp = value.indexOf(" ");
        msg.cseq = Number(value.slice(0, sp));
        msg.cseqMethod = value.slice(sp + 1).trim();
        break;
      }
      case "contact":
        msg.contact ??= splitList(value)[0] ?? null;
        break;
      case "record-route":
        for (const v of splitList(value)) msg.recordRoute.push(v);
        break;
      case "reason":
        msg.reason = msg.reason === null ? value : `${msg.reason}, ${value}`;
        break;
      case "www-authenticate":
      case "proxy-authenticate":
        // Not split at commas: they separate the challenge's own parameters.
        if (msg.challenges) msg.challenges.push(value);
        else msg.challenges = [value];
        break;
      case "retry-after": {
        const seconds = /^\d{1,10}/.exec(value);
        msg.retryAfter = seconds ? Number(seconds[0]) : null;
        break;
      }
      case "content-type":
        msg.contentType = (value.split(";")[0] ?? "").trim().toLowerCase();
        break;
      case "p-asserted-identity":
        msg.assertedIdentities = [...(msg.assertedIdentities ?? []), ...splitList(value)];
        break;
      case "identity":
        msg.identity = value;
        break;
    }
  }
  return msg;
}

/** Splits a comma-separated header value, ignoring commas inside quotes and angle brackets. */
export function splitList(value: string): string[] {
  if (!value.includes(",")) return [value];
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') quoted = !quoted;
    else if (quoted) {
      if (c === "\\") i++; // a quoted-pair: the escaped character (a quote, or a backslash) ends nothing
    } else if (c === "<") depth++;
    else if (c === ">") depth--;
    else if (c === "," && depth === 0) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts;
}

/**
 * A header parameter outside the URI (`;tag=`, `;branch=`), or null.
 * @example headerParam("<sip:a@b;tag=no>;tag=yes", "tag") // "yes"
 */
export function headerParam(value: string, name: string): string | null {
  const from = value.lastIndexOf(">") + 1;
  let at = value.indexOf(`;${name}=`, from);
  if (at < 0) {
    // Parameter names are case-insensitive; the exact-case lookup above is the common case.
    at = value.toLowerCase().indexOf(`;${name.toLowerCase()}=`, from);
    if (at < 0) return null;
  }
  const start = at + name.length + 2;
  let end = start;
  while (end < value.length && value[end] !== ";" && value[end] !== "," && value[end] !== " ") end++;
  return value.slice(start, end);
}

/**
 * The URI of a name-addr (`"Bob" <sip:b@h>;tag=1`) or addr-spec (`sip:b@h;tag=1`) header value (RFC 3261 §25.1).
 * The quoted display name is the sender's to write and may hold `<sip:+44...>` itself, so the URI is the first `<`
 * outside quoted strings; a quoted name with no URI after it, or an unterminated quote, leaves none ("").
 */
export function addressUri(value: string): string {
  const lt = uriStart(value);
  if (lt === NO_URI) return "";
  if (lt >= 0) {
    const gt = value.indexOf(">", lt);
    return value.slice(lt + 1, gt < 0 ? undefined : gt);
  }
  const semi = value.indexOf(";");
  return (semi < 0 ? value : value.slice(0, semi)).trim();
}

const ADDR_SPEC = -1;
const NO_URI = -2;

/**
 * Index of the `<` opening a name-addr's URI, ADDR_SPEC for a value without one, NO_URI for a display name without
 * a URI. Only what precedes the first `<` is looked at closely: a display name holds no `;` outside quotes, so one
 * means an addr-spec whose parameter holds the `<`. Each character is read once or twice, so a hostile 64 KB display
 * name costs linear time; `<sip:...>` and an addr-spec cost what a plain `indexOf` does.
 */
function uriStart(value: string): number {
  let lt = value.indexOf("<");
  if (lt <= 0) return lt < 0 ? ADDR_SPEC : 0;
  for (let i = 0; i < lt; i++) {
    const c = value.charCodeAt(i);
    if (c === 59) return ADDR_SPEC; // ;
    if (c !== 34) continue; // "
    // A quoted-string: to its closing quote, over quoted-pairs (a backslash and the character it escapes).
    for (i++; i < value.length; i++) {
      const q = value.charCodeAt(i);
      if (q === 92) i++;
      else if (q === 34) break;
    }
    if (i >= value.length) return NO_URI;
    if (i > lt) {
      lt = value.indexOf("<", i + 1);
      if (lt < 0) return NO_URI;
    }
  }
  return lt;
}

/**
 * The user part of a SIP or tel URI, without user parameters; "" when there is none. Pass a URI, not a header
 * value: `uriUser(addressUri(from))`. Schemes are case-insensitive (RFC 3261 §19.1.4): `TEL:` is a tel URI.
 * @example uriUser("sip:+4420;npdi@example.com;user=phone") // "+4420"
 */
export function uriUser(uri: string): string {
  const rest = uri.slice(uri.indexOf(":") + 1);
  const at = rest.indexOf("@");
  let user = at >= 0 ? rest.slice(0, at) : isTelUri(uri) ? rest : "";
  const semi = user.indexOf(";");
  if (semi >= 0) user = user.slice(0, semi);
  return user.includes("%") ? safeDecode(user) : user;
}

/** `tel:` in any case, without allocating a lower-cased copy. */
function isTelUri(uri: string): boolean {
  return (
    uri.length > 4 &&
    (uri.charCodeAt(0) | 32) === 116 &&
    (uri.charCodeAt(1) | 32) === 101 &&
    (uri.charCodeAt(2) | 32) === 108 &&
    uri.charCodeAt(3) === 58
  );
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Formats a request. `headers` are complete lines without CRLF; Content-Length is appended.
 * @example formatRequest("OPTIONS", "sip:h", ["Via: SIP/2.0/UDP h;branch=z9hG4bK1"])
 */
export function formatRequest(method: string, uri: string, headers: readonly string[], body = ""): string {
  return `${method} ${uri} SIP/2.0\r\n${headers.join("\r\n")}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * Formats a response to `request`, echoing its Via stack, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2).
 * `toTag` is added to To unless the request's To already carries one.
 */
export function formatResponse(
  request: SipMessage,
  status: number,
  phrase: string,
  options: { toTag?: string; headers?: readonly string[]; body?: string } = {},
): string {
  const lines: string[] = [];
  for (const via of request.via) lines.push(`Via: ${via}`);
  lines.push(`From: ${request.from ?? ""}`);
  const to = request.to ?? "";
  lines.push(options.toTag && headerParam(to, "tag") === null ? `To: ${to};tag=${options.toTag}` : `To: ${to}`);
  lines.push(`Call-ID: ${request.callId ?? ""}`, `CSeq: ${request.cseq} ${request.cseqMethod}`);
  if (options.headers) lines.push(...options.headers);
  const body = options.body ?? "";
  return `SIP/2.0 ${status} ${phrase}\r\n${lines.join("\r\n")}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** `host:port` for a Via or Contact, with IPv6 literals bracketed. */
export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
