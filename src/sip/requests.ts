/**
 * Builds the requests of a flash call from its identity. They are rebuilt on demand rather than kept, because a
 * finished call lingers for Timer D (32 s) and at thousands of calls per second every retained byte counts:
 * a retransmitted final is rare, and its own To header is all a fresh ACK needs.
 */
import { addressUri, formatRequest, type SipMessage } from "./message.js";

/** The identifiers that make a call's requests; kept for the whole life of the call, Timer D included. */
export interface CallIdentity {
  readonly callId: string;
  /** The INVITE's branch, shared by its CANCEL and non-2xx ACK. */
  readonly branch: string;
  readonly fromTag: string;
  readonly to: string;
  readonly cli: string;
}

/** Where the UAC is and what it calls itself. */
export interface RequestContext {
  /** "SIP/2.0/UDP host:port", to which `;branch=...;rport` is appended. */
  readonly viaPrefix: string;
  readonly contact: string;
  readonly domain: string;
  readonly userAgent: string;
}

function requestUri(ctx: RequestContext, id: CallIdentity): string {
  return `sip:${id.to}@${ctx.domain}`;
}

function commonHeaders(ctx: RequestContext, id: CallIdentity, branch: string, to: string, cseq: string): string[] {
  return [
    `Via: ${ctx.viaPrefix};branch=${branch};rport`,
    "Max-Forwards: 70",
    `From: <sip:${id.cli}@${ctx.domain}>;tag=${id.fromTag}`,
    `To: ${to}`,
    `Call-ID: ${id.callId}`,
    `CSeq: ${cseq}`,
  ];
}

/** The INVITE: From and P-Asserted-Identity carry the CLI (the code). No SDP: the call is never answered. */
export function inviteRequest(ctx: RequestContext, id: CallIdentity): string {
  const uri = requestUri(ctx, id);
  return formatRequest("INVITE", uri, [
    ...commonHeaders(ctx, id, id.branch, `<${uri}>`, "1 INVITE"),
    `Contact: ${ctx.contact}`,
    `P-Asserted-Identity: <sip:${id.cli}@${ctx.domain}>`,
    `User-Agent: ${ctx.userAgent}`,
  ]);
}

/** §9.1: the INVITE's Request-URI, top Via (same branch), From, To, Call-ID and CSeq number. */
export function cancelRequest(ctx: RequestContext, id: CallIdentity): string {
  const uri = requestUri(ctx, id);
  return formatRequest("CANCEL", uri, [
    ...commonHeaders(ctx, id, id.branch, `<${uri}>`, "1 CANCEL"),
    `User-Agent: ${ctx.userAgent}`,
  ]);
}

/** §17.1.1.3: the ACK for a 300-699 final, part of the INVITE transaction: same branch, To from the response. */
export function nonSuccessAck(ctx: RequestContext, id: CallIdentity, response: SipMessage): string {
  return formatRequest("ACK", requestUri(ctx, id), commonHeaders(ctx, id, id.branch, response.to ?? "", "1 ACK"));
}

/**
 * §13.2.2.4 and §15: the ACK and BYE for a 2xx, each a new transaction (new branch) sent to the remote target
 * (Contact) through the route set (the 2xx's Record-Route, reversed).
 */
export function dialogRequests(
  ctx: RequestContext,
  id: CallIdentity,
  response: SipMessage,
  branches: { ack: string; bye: string },
): { ack: string; bye: string } {
  const target = response.contact ? addressUri(response.contact) : requestUri(ctx, id);
  const routes = response.recordRoute.map((r) => `Route: ${r}`).reverse();
  const to = response.to ?? "";
  return {
    ack: formatRequest("ACK", target, [...commonHeaders(ctx, id, branches.ack, to, "1 ACK"), ...routes]),
    bye: formatRequest("BYE", target, [
      ...commonHeaders(ctx, id, branches.bye, to, "2 BYE"),
      ...routes,
      `User-Agent: ${ctx.userAgent}`,
    ]),
  };
}
