import { describe, expect, it } from "vitest";
import { addressUri, formatRequest, formatResponse, headerParam, parseMessage, splitList, uriUser } from "./message.js";

const CRLF = "\r\n";
const lines = (...l: string[]) => `${l.join(CRLF)}${CRLF}${CRLF}`;

describe("parseMessage", () => {
  it("parses a response: status, Via stack, dialog headers, CSeq, Reason", () => {
    const msg = parseMessage(
      lines(
        "SIP/2.0 486 Busy Here",
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxy, SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKua;rport=5070",
        "Via: SIP/2.0/UDP 127.0.0.9;branch=z9hG4bKthird",
        "From: <sip:+442079412345@example.com>;tag=abc",
        'To: "Bob" <sip:+447400123456@example.com>;tag=xyz',
        "Call-ID: c1@host",
        "CSeq: 7 INVITE",
        'Reason: Q.850;cause=17;text="User busy"',
        "X-Ignored: yes",
        "Content-Length: 0",
      ),
    );
    expect(msg).toMatchObject({
      method: "",
      status: 486,
      reasonPhrase: "Busy Here",
      via: [
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKproxy",
        "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKua;rport=5070",
        "SIP/2.0/UDP 127.0.0.9;branch=z9hG4bKthird",
      ],
      from: "<sip:+442079412345@example.com>;tag=abc",
      to: '"Bob" <sip:+447400123456@example.com>;tag=xyz',
      callId: "c1@host",
      cseq: 7,
      cseqMethod: "INVITE",
      reason: 'Q.850;cause=17;text="User busy"',
      body: "",
    });
  });

  it("parses a request with compact headers, folded lines and a body", () => {
    const msg = parseMessage(
      `INVITE sip:+447400123456@example.com SIP/2.0${CRLF}` +
        `v: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1${CRLF}` +
        `f: <sip:a@b>;tag=1${CRLF}t: <sip:c@d>${CRLF}i: id-1${CRLF}` +
        `m: <sip:x@127.0.0.1:5070>,${CRLF} <sip:y@127.0.0.1>${CRLF}` +
        `Record-Route: <sip:p1;lr>, <sip:p2;lr>${CRLF}Record-Route: <sip:p3;lr>${CRLF}` +
        `cseq: 1 INVITE${CRLF}l: 4${CRLF}${CRLF}v=0\n`,
    );
    expect(msg).toMatchObject({
      method: "INVITE",
      uri: "sip:+447400123456@example.com",
      status: 0,
      via: ["SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1"],
      from: "<sip:a@b>;tag=1",
      to: "<sip:c@d>",
      callId: "id-1",
      contact: "<sip:x@127.0.0.1:5070>",
      recordRoute: ["<sip:p1;lr>", "<sip:p2;lr>", "<sip:p3;lr>"],
      cseq: 1,
      cseqMethod: "INVITE",
      body: "v=0\n",
    });
  });

  it("keeps non-ASCII display names intact (UTF-8 in, UTF-8 out)", () => {
    const text = lines("SIP/2.0 180 Ringing", 'To: "Zoë Łukasz" <sip:+48@h>;tag=t');
    const msg = parseMessage(Buffer.from(text, "utf8").toString("utf8"));
    expect(msg?.to).toBe('"Zoë Łukasz" <sip:+48@h>;tag=t');
  });

  it.each([
    ["empty", ""],
    ["no header terminator", "SIP/2.0 200 OK\r\nVia: x\r\n"],
    ["bad status", lines("SIP/2.0 2x0 OK")],
    ["status out of range", lines("SIP/2.0 700 Odd")],
    ["bad version", lines("INVITE sip:a@b SIP/3.0")],
    ["header without colon", lines("SIP/2.0 200 OK", "garbage")],
  ])("rejects a malformed message (%s)", (_name, text) => {
    expect(parseMessage(text)).toBeNull();
  });
});

describe("header helpers", () => {
  it("reads header parameters outside the URI, case-insensitively", () => {
    expect(headerParam("<sip:a@b;tag=inner>;tag=outer;x=1", "tag")).toBe("outer");
    expect(headerParam("SIP/2.0/UDP h;Branch=z9hG4bKX;rport", "branch")).toBe("z9hG4bKX");
    expect(headerParam("<sip:a@b>", "tag")).toBeNull();
  });

  it("splits lists at commas outside quotes and brackets", () => {
    expect(splitList('"a, b" <sip:x@y;p=1,2>, <sip:z>')).toEqual(['"a, b" <sip:x@y;p=1,2>', "<sip:z>"]);
    expect(splitList("single")).toEqual(["single"]);
    // An escaped backslash ends with the quote after it; an escaped quote does not.
    expect(splitList('"a\\\\", <sip:x@y>')).toEqual(['"a\\\\"', "<sip:x@y>"]);
    expect(splitList('"a\\", b", <sip:x@y>')).toEqual(['"a\\", b"', "<sip:x@y>"]);
  });

  it("extracts URIs and user parts", () => {
    expect(addressUri('"Bob" <sip:+44@h:5060;transport=udp>;tag=1')).toBe("sip:+44@h:5060;transport=udp");
    expect(addressUri("sip:+44@h;tag=1")).toBe("sip:+44@h");
    expect(uriUser(addressUri('"A" <sip:+4420@example.com;user=phone>;tag=9'))).toBe("+4420");
    expect(uriUser(addressUri("sip:+4420@example.com;tag=9"))).toBe("+4420");
    expect(uriUser("sip:447400123456;npdi@h;user=phone")).toBe("447400123456");
    expect(uriUser("tel:+447400123456")).toBe("+447400123456");
    expect(uriUser("sip:%2B44@h")).toBe("+44");
    expect(uriUser("sip:example.com")).toBe("");
  });

  it("reads a name-addr's URI after its quoted display name, whatever the name holds (RFC 3261 §25.1)", () => {
    expect(addressUri('"<sip:+44VICTIM@x>" <sip:+44REAL@trunk>;tag=1')).toBe("sip:+44REAL@trunk");
    expect(addressUri('"a \\" <sip:+44FAKE@x>" <sip:+44REAL@trunk>')).toBe("sip:+44REAL@trunk");
    expect(addressUri('"a \\"<sip:+44FAKE@x>\\"" <sip:+44REAL@trunk>')).toBe("sip:+44REAL@trunk");
    expect(addressUri(' "x\\\\" <sip:+44REAL@trunk>')).toBe("sip:+44REAL@trunk");
    expect(addressUri("Bob Smith <sip:+44REAL@trunk>")).toBe("sip:+44REAL@trunk");
    expect(addressUri('sip:+44REAL@trunk;tag=1;x="<sip:+44FAKE@x>"')).toBe("sip:+44REAL@trunk");
    expect(addressUri('Bob "<sip:+44FAKE@x>" <sip:+44REAL@trunk>')).toBe("sip:+44REAL@trunk");
    // An unterminated quote, or a quoted name with no URI after it, leaves no URI rather than one from the name.
    expect(addressUri('"<sip:+44VICTIM@x> <sip:+44REAL@trunk>')).toBe("");
    expect(addressUri('"<sip:+44VICTIM@x>"')).toBe("");
    expect(addressUri('"<sip:+44VICTIM@x>";tag=1')).toBe("");
    const long = `"${'<\\"'.repeat(22_000)}" <sip:+44REAL@trunk>`;
    expect(addressUri(long)).toBe("sip:+44REAL@trunk");
  });

  it("reads the user of a tel URI whatever the scheme's case (RFC 3261 §19.1.4, RFC 3966)", () => {
    expect(uriUser("TEL:+447400123456")).toBe("+447400123456");
    expect(uriUser("Tel:+447400123456;phone-context=x")).toBe("+447400123456");
    expect(uriUser(addressUri("<TEL:+447400123456>;tag=1"))).toBe("+447400123456");
  });
});

describe("formatting", () => {
  it("formats a request with Content-Length counted in bytes", () => {
    expect(formatRequest("MESSAGE", "sip:a@b", ["Call-ID: 1"], "é")).toBe(
      "MESSAGE sip:a@b SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 2\r\n\r\né",
    );
  });

  it("formats a response echoing the request's Via stack in order and adding the To tag once", () => {
    const request = parseMessage(
      lines(
        "INVITE sip:+44@h SIP/2.0",
        "Via: SIP/2.0/UDP p;branch=z9hG4bKp",
        "Via: SIP/2.0/UDP u;branch=z9hG4bKu",
        "From: <sip:a@h>;tag=f",
        "To: <sip:+44@h>",
        "Call-ID: c",
        "CSeq: 3 INVITE",
      ),
    )!;
    const response = formatResponse(request, 487, "Request Terminated", { toTag: "t1", headers: ["X-A: 1"] });
    expect(response).toBe(
      lines(
        "SIP/2.0 487 Request Terminated",
        "Via: SIP/2.0/UDP p;branch=z9hG4bKp",
        "Via: SIP/2.0/UDP u;branch=z9hG4bKu",
        "From: <sip:a@h>;tag=f",
        "To: <sip:+44@h>;tag=t1",
        "Call-ID: c",
        "CSeq: 3 INVITE",
        "X-A: 1",
        "Content-Length: 0",
      ),
    );
    const again = parseMessage(response)!;
    expect(formatResponse(again, 200, "OK", { toTag: "t2" })).toContain("To: <sip:+44@h>;tag=t1\r\n");
  });

  it("reads Retry-After's seconds without comment or parameters, and the Content-Type's media type", () => {
    const head = "SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nCSeq: 1 INVITE\r\n";
    expect(parseMessage(`${head}Retry-After: 120 (busy);duration=60\r\n\r\n`)?.retryAfter).toBe(120);
    expect(parseMessage(`${head}Retry-After: soon\r\n\r\n`)?.retryAfter).toBeNull();
    expect(parseMessage(`${head}\r\n`)?.retryAfter).toBeNull();
    expect(parseMessage(`${head}c: Application/SDP; charset=utf-8\r\n\r\nv=0\r\n`)?.contentType).toBe(
      "application/sdp",
    );
  });
});
