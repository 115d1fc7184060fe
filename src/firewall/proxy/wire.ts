/**
 * Edits of a SIP message's text that a stateless proxy makes (RFC 3261 §16.6, §16.7, §16.11): add our Via, stamp
 * received/rport on the sender's, decrement Max-Forwards, add a header, drop our Route entry, and pop our Via from
 * a response. The message is kept as latin1 text, so every byte we do not edit passes through exactly, body
 * included; the parsed view comes from the shared parser (src/sip/message.ts).
 */

/** Where a header line of `names` (lowercase, compact forms included) starts, or -1. */
export function findHeader(
  text: string,
  names: readonly string[],
): { start: number; valueStart: number; end: number } | -1 {
  let pos = text.indexOf("\r\n") + 2;
  for (;;) {
    const end = text.indexOf("\r\n", pos);
    if (end <= pos) return -1;
    const colon = text.indexOf(":", pos);
    if (colon > pos && colon < end) {
      const name = text.slice(pos, colon).trimEnd().toLowerCase();
      if (names.includes(name)) {
        let valueStart = colon + 1;
        while (text.charCodeAt(valueStart) === 32 || text.charCodeAt(valueStart) === 9) valueStart++;
        return { start: pos, valueStart, end };
      }
    }
    pos = end + 2;
  }
}

const VIA = ["via", "v"];
const ROUTE = ["route"];
const MAX_FORWARDS = ["max-forwards"];

/** End (exclusive) of the first value of a comma-separated header value starting at `from`, before `end`. */
function firstValueEnd(text: string, from: number, end: number): number {
  let quoted = false;
  let depth = 0;
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (quoted) continue;
    else if (c === 60) depth++;
    else if (c === 62) depth--;
    else if (c === 44 && depth === 0) return i;
  }
  return end;
}

/** Removes the first value of a header (the whole line when it is the only one). */
function removeFirstValue(text: string, h: { start: number; valueStart: number; end: number }): string {
  const cut = firstValueEnd(text, h.valueStart, h.end);
  if (cut === h.end) return text.slice(0, h.start) + text.slice(h.end + 2);
  let next = cut + 1;
  while (text.charCodeAt(next) === 32) next++;
  return text.slice(0, h.valueStart) + text.slice(next);
}

/** Inserts header lines right after the start line (a new topmost Via goes here). */
export function insertAfterStartLine(text: string, lines: string): string {
  const at = text.indexOf("\r\n") + 2;
  return text.slice(0, at) + lines + text.slice(at);
}

/** Adds `;received=` (and fills a bare `;rport`) on the topmost Via, as a server must on a datagram (§18.2.1). */
export function stampReceived(text: string, address: string, port: number): string {
  const h = findHeader(text, VIA);
  if (h === -1) return text;
  const end = firstValueEnd(text, h.valueStart, h.end);
  let via = text.slice(h.valueStart, end);
  const rport = /;rport(?=;|$|\s)/i.exec(via);
  if (rport) via = `${via.slice(0, rport.index)};rport=${port}${via.slice(rport.index + rport[0].length)}`;
  if (!/;received=/i.test(via)) via += `;received=${address}`;
  return text.slice(0, h.valueStart) + via + text.slice(end);
}

/**
 * Adds our Via value on top of the stack, in the first Via header line (`Via: ours, theirs`): peers that copy "the
 * Via header" of a request into a later response (SIPp's captured Via, some handsets' 487) then copy the whole stack.
 */
export function pushVia(text: string, value: string): string {
  const h = findHeader(text, VIA);
  if (h === -1) return insertAfterStartLine(text, `Via: ${value}\r\n`);
  return `${text.slice(0, h.valueStart)}${value}, ${text.slice(h.valueStart)}`;
}

/** Removes the topmost Via value (ours, on a response going back). */
export function popVia(text: string): string {
  const h = findHeader(text, VIA);
  return h === -1 ? text : removeFirstValue(text, h);
}

/** Removes the topmost Route value when it names us (loose routing, §16.4). */
export function popOwnRoute(text: string, isOurs: (uri: string) => boolean): string {
  const h = findHeader(text, ROUTE);
  if (h === -1) return text;
  const value = text.slice(h.valueStart, firstValueEnd(text, h.valueStart, h.end));
  return isOurs(value) ? removeFirstValue(text, h) : text;
}

/** Decrements Max-Forwards (adding `Max-Forwards: 70` when absent); null when it was already 0 (§16.3 step 3). */
export function decrementMaxForwards(text: string): string | null {
  const h = findHeader(text, MAX_FORWARDS);
  if (h === -1) return insertAfterStartLine(text, "Max-Forwards: 70\r\n");
  const value = Number(text.slice(h.valueStart, h.end).trim());
  if (!(value > 0)) return null;
  return `${text.slice(0, h.valueStart)}${value - 1}${text.slice(h.end)}`;
}

/** `host`, `port` and parameters of a Via value like `SIP/2.0/UDP 10.0.0.1:5060;branch=z9;rport=5070`. */
export function viaTarget(via: string): { transport: string; host: string; port: number; params: Map<string, string> } {
  const space = via.indexOf(" ");
  const transport = via.slice(via.lastIndexOf("/", space) + 1, space).toUpperCase();
  const parts = via.slice(space + 1).split(";");
  const sentBy = (parts[0] ?? "").trim();
  const params = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf("=");
    params.set((eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase(), eq < 0 ? "" : p.slice(eq + 1).trim());
  }
  const { host, port } = splitHostPort(sentBy, transport === "TLS" ? 5061 : 5060);
  return { transport, host, port, params };
}

export function splitHostPort(hostPort: string, defaultPort: number): { host: string; port: number } {
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    const port = Number(hostPort.slice(close + 2));
    return { host: hostPort.slice(1, close), port: port > 0 ? port : defaultPort };
  }
  const colon = hostPort.lastIndexOf(":");
  if (colon < 0) return { host: hostPort, port: defaultPort };
  return { host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)) || defaultPort };
}

/** host and port of a SIP URI (`sip:+44...@10.0.0.5:5080;transport=tcp`). */
export function uriTarget(uri: string): { host: string; port: number } {
  let rest = uri.slice(uri.indexOf(":") + 1);
  const at = rest.indexOf("@");
  if (at >= 0) rest = rest.slice(at + 1);
  const end = rest.search(/[;?>]/);
  return splitHostPort(end < 0 ? rest : rest.slice(0, end), uri.startsWith("sips:") ? 5061 : 5060);
}

/** A 32-bit FNV-1a hash as 8 hex digits: our branch is derived from the incoming one, so a CANCEL gets the INVITE's. */
export function fnv1a(text: string, seed = 0x811c9dc5): string {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
