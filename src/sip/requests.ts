/**
 * Builds the requests of a flash call from its identity. They are rebuilt on demand rather than kept, because a
 * finished call lingers for Timer D (32 s) and at thousands of calls per second every retained byte counts:
 * a retransmitted final is rare, and its own To header is all a fresh ACK needs.
 */
import { addressUri, formatRequest, type SipMessage } from "./message.js";

/** The identifiers that make a call's requests; kept for the whole life of the call, Timer D included. */
export interface CallIdentity {
  readonly callId: string;
  /**
   * The current INVITE's branch, shared by its CANCEL and non-2xx ACK. A new one when the INVITE is re-sent with
   * credentials (a new transaction).
   */
  branch: string;
  /** The current INVITE's CSeq number: 1, then one more for each re-sent INVITE (§22.1). */
  cseq: number;
  readonly fromTag: string;
  /** The user part of the Request-URI and To, as the trunk wants the number. */
  readonly toUser: string;
  /** The user part of From and P-Asserted-Identity: the CLI as the trunk wants it. */
  readonly cliUser: string;
}

/** What only the INVITE carries (its CANCEL and ACKs do not). */
export interface InviteExtras {
  /** Send P-Asserted-Identity with the CLI. */
  readonly pAssertedIdentity: boolean;
  /** Extra header lines ("Name: value"), in order. */
  readonly headers: readonly string[] | null;
  /** An Authorization or Proxy-Authorization line answering the last challenge, or null. */
  readonly authorization: string | null;
  /** A voice call's SDP offer, or null (a flash call offers no media: it is never answered). */
  readonly sdp?: string | null;
}

/** Where the UAC is and what it calls itself. */
export interface RequestContext {
  /** "SIP/2.0/UDP host:port", to which `;branch=...;rport` is appended (changes when a TCP/TLS connection does). */
  readonly viaPrefix: string;
  /** "<sip:host:port>", "<sip:host:port;transport=tcp>" or "<sips:host:port>". */
  readonly contact: string;
  readonly domain: string;
  readonly userAgent: string;
  /** "sip", or "sips" over TLS. */
  readonly scheme: string;
  /** URI parameters naming the transport, e.g. ";transport=tcp", or "". */
  readonly uriParams: string;
}

/** `#` is not allowed in a URI user part (RFC 3261 §25.1); tech prefixes such as "99#" are sent escaped. */
function escapeUser(user: string): string {
  return user.includes("#") ? user.replaceAll("#", "%23") : user;
}

/** The Request-URI of the call's INVITE and CANCEL (also the `uri` its digest answers cover). */
export function requestUri(ctx: RequestContext, id: CallIdentity): string {
  return `${ctx.scheme}:${escapeUser(id.toUser)}@${ctx.domain}${ctx.uriParams}`;
}

function toHeader(ctx: RequestContext, id: CallIdentity): string {
  return `<${ctx.scheme}:${escapeUser(id.toUser)}@${ctx.domain}>`;
}

function cliUri(ctx: RequestContext, id: CallIdentity): string {
  return `<${ctx.scheme}:${escapeUser(id.cliUser)}@${ctx.domain}>`;
}

function commonHeaders(ctx: RequestContext, id: CallIdentity, branch: string, to: string, cseq: string): string[] {
  return [
    `Via: ${ctx.viaPrefix};branch=${branch};rport`,
    "Max-Forwards: 70",
    `From: ${cliUri(ctx, id)};tag=${id.fromTag}`,
    `To: ${to}`,
    `Call-ID: ${id.callId}`,
    `CSeq: ${cseq}`,
  ];
}

/**
 * The INVITE: From and P-Asserted-Identity carry the CLI (the code), then the extra headers (Identity, Privacy,
 * custom) and the answer to the last challenge. A flash call has no SDP (it is never answered); a voice call
 * carries its offer.
 */
export function inviteRequest(ctx: RequestContext, id: CallIdentity, extras: InviteExtras): string {
  const lines = commonHeaders(ctx, id, id.branch, toHeader(ctx, id), `${id.cseq} INVITE`);
  lines.push(`Contact: ${ctx.contact}`);
  if (extras.pAssertedIdentity) lines.push(`P-Asserted-Identity: ${cliUri(ctx, id)}`);
  if (extras.headers) for (const line of extras.headers) lines.push(line);
  if (extras.authorization) lines.push(extras.authorization);
  lines.push(`User-Agent: ${ctx.userAgent}`);
  if (!extras.sdp) return formatRequest("INVITE", requestUri(ctx, id), lines);
  lines.push("Content-Type: application/sdp");
  return formatRequest("INVITE", requestUri(ctx, id), lines, extras.sdp);
}

/** §9.1: the INVITE's Request-URI, top Via (same branch), From, To, Call-ID and CSeq number. */
export function cancelRequest(ctx: RequestContext, id: CallIdentity): string {
  return formatRequest("CANCEL", requestUri(ctx, id), [
    ...commonHeaders(ctx, id, id.branch, toHeader(ctx, id), `${id.cseq} CANCEL`),
    `User-Agent: ${ctx.userAgent}`,
  ]);
}

/** §17.1.1.3: the ACK for a 300-699 final, part of the INVITE transaction: same branch, To from the response. */
export function nonSuccessAck(ctx: RequestContext, id: CallIdentity, response: SipMessage): string {
  return formatRequest(
    "ACK",
    requestUri(ctx, id),
    commonHeaders(ctx, id, id.branch, response.to ?? "", `${id.cseq} ACK`),
  );
}

/**
 * §13.2.2.4 and §15: the ACK and BYE for a 2xx, each a new transaction (new branch) sent to the remote target
 * (Contact) through the route set (the 2xx's Record-Route, reversed). The ACK carries the INVITE's credentials,
 * and `answer` (SDP) when the 2xx carried an offer.
 */
export function dialogRequests(
  ctx: RequestContext,
  id: CallIdentity,
  response: SipMessage,
  branches: { ack: string; bye: string },
  authorization: string | null,
  answer: string | null = null,
): { ack: string; bye: string } {
  const target = response.contact ? addressUri(response.contact) : requestUri(ctx, id);
  const routes = response.recordRoute.map((r) => `Route: ${r}`).reverse();
  const to = response.to ?? "";
  const ack = [...commonHeaders(ctx, id, branches.ack, to, `${id.cseq} ACK`), ...routes];
  if (authorization) ack.push(authorization);
  if (answer !== null) ack.push("Content-Type: application/sdp");
  return {
    ack: formatRequest("ACK", target, ack, answer ?? ""),
    bye: formatRequest("BYE", target, [
      ...commonHeaders(ctx, id, branches.bye, to, `${id.cseq + 1} BYE`),
      ...routes,
      `User-Agent: ${ctx.userAgent}`,
    ]),
  };
}

/** An out-of-dialog OPTIONS to the trunk itself (a health probe, RFC 3261 §11). */
export function optionsRequest(ctx: RequestContext, ids: { callId: string; branch: string; fromTag: string }): string {
  const uri = `${ctx.scheme}:${ctx.domain}`;
  return formatRequest("OPTIONS", `${uri}${ctx.uriParams}`, [
    `Via: ${ctx.viaPrefix};branch=${ids.branch};rport`,
    "Max-Forwards: 70",
    `From: <${uri}>;tag=${ids.fromTag}`,
    `To: <${uri}>`,
    `Call-ID: ${ids.callId}`,
    "CSeq: 1 OPTIONS",
    `Contact: ${ctx.contact}`,
    "Accept: application/sdp",
    `User-Agent: ${ctx.userAgent}`,
  ]);
}
