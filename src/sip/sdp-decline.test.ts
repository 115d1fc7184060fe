import { describe, expect, it } from "vitest";
import { declineOffer, isSdpOffer, viaHost } from "./sdp-decline.js";

const OFFER = [
  "v=0",
  "o=handset 53655765 2353687637 IN IP4 192.0.2.10",
  "s=-",
  "c=IN IP4 192.0.2.10",
  "t=0 0",
  "m=audio 49170 RTP/AVP 0 8 101",
  "a=rtpmap:101 telephone-event/8000",
  "m=video 51372 RTP/AVP 31",
  "",
].join("\r\n");

describe("SDP answer declining the media", () => {
  it("answers every offered m= line, in order, with port 0 and the offer's formats (RFC 3264 §6)", () => {
    expect(declineOffer(OFFER, "198.51.100.7", 42)).toBe(
      [
        "v=0",
        "o=- 42 42 IN IP4 198.51.100.7",
        "s=-",
        "c=IN IP4 198.51.100.7",
        "t=0 0",
        "m=audio 0 RTP/AVP 0 8 101",
        "m=video 0 RTP/AVP 31",
        "",
      ].join("\r\n"),
    );
  });

  it("writes an IPv6 origin and connection for an IPv6 address", () => {
    expect(declineOffer("v=0\nm=audio 4000 RTP/SAVP 0\n", "2001:db8::5", 1)).toContain("c=IN IP6 2001:db8::5\r\n");
  });

  it("takes a body as an offer only when it is SDP", () => {
    expect(isSdpOffer("application/sdp", OFFER)).toBe(true);
    expect(isSdpOffer(null, OFFER)).toBe(true);
    expect(isSdpOffer("application/sdp", "")).toBe(false);
    expect(isSdpOffer("text/plain", "v=0\r\n")).toBe(false);
  });

  it("reads our host from the Via prefix", () => {
    expect(viaHost("SIP/2.0/UDP 127.0.0.1:5060")).toBe("127.0.0.1");
    expect(viaHost("SIP/2.0/TLS [2001:db8::1]:5061")).toBe("2001:db8::1");
    expect(viaHost("SIP/2.0/TCP carrier.example")).toBe("carrier.example");
  });
});
