/**
 * The SDP answer of a call that wants no media. Our INVITE carries no offer, so a 2xx with a body carries the
 * offer, and RFC 3261 §13.2.2.4 puts the answer in the ACK: "If the 2xx contains an offer (based on the rules
 * above), the ACK MUST carry an answer in its body." RFC 3264 §6 declines a stream by answering its "m=" line with
 * port zero, one "m=" line per offered one, in order.
 */

/** Whether a 2xx's body is an SDP offer that the ACK must answer. */
export function isSdpOffer(contentType: string | null, body: string): boolean {
  if (body.trim() === "") return false;
  return contentType === "application/sdp" || (contentType === null && body.startsWith("v=0"));
}

/**
 * An answer declining every offered stream: each "m=" line echoed with port 0 and the offer's formats (RFC 4566
 * wants at least one), under our own origin and connection address.
 * @example declineOffer("v=0\r\n...\r\nm=audio 4000 RTP/AVP 0 8\r\n", "192.0.2.1", 7)
 * // "v=0\r\no=- 7 7 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0 8\r\n"
 */
export function declineOffer(offer: string, address: string, sessionId: number): string {
  const family = address.includes(":") ? "IP6" : "IP4";
  const lines = [
    "v=0",
    `o=- ${sessionId} ${sessionId} IN ${family} ${address}`,
    "s=-",
    `c=IN ${family} ${address}`,
    "t=0 0",
  ];
  for (const line of offer.split(/\r?\n/)) {
    if (!line.startsWith("m=")) continue;
    // m=<media> <port>[/<count>] <proto> <fmt> ...
    const [media = "audio", , proto = "RTP/AVP", ...formats] = line.slice(2).trim().split(/\s+/);
    lines.push(`m=${media} 0 ${proto} ${formats.length > 0 ? formats.join(" ") : "0"}`);
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** The host of a Via sent-by ("SIP/2.0/UDP 192.0.2.1:5060", "SIP/2.0/TLS [2001:db8::1]:5061"), brackets removed. */
export function viaHost(viaPrefix: string): string {
  const sentBy = viaPrefix.slice(viaPrefix.lastIndexOf(" ") + 1);
  if (sentBy.startsWith("[")) return sentBy.slice(1, sentBy.indexOf("]"));
  const colon = sentBy.lastIndexOf(":");
  return colon < 0 ? sentBy : sentBy.slice(0, colon);
}
