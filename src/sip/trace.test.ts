import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redactSipMessage, traceEntry } from "./trace.js";

const invite = (cli: string, extra: string[] = []) =>
  [
    "INVITE sip:+447400123456@carrier.example SIP/2.0",
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc",
    `From: <sip:${cli}@carrier.example>;tag=7f`,
    "To: <sip:+447400123456@carrier.example>",
    `P-Asserted-Identity: <sip:${cli}@carrier.example>`,
    ...extra,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");

describe("the SIP trace's redaction", () => {
  it("masks the caller ID's last digits in From and P-Asserted-Identity, keeping its shape and prefix", () => {
    const text = redactSipMessage(invite("+442079412345"));
    expect(text).toContain("From: <sip:+442079******@carrier.example>;tag=7f");
    expect(text).toContain("P-Asserted-Identity: <sip:+442079******@carrier.example>");
    // The destination is not a secret, and the trace would be useless without it.
    expect(text).toContain("INVITE sip:+447400123456@carrier.example SIP/2.0");
    expect(text).toContain("To: <sip:+447400123456@carrier.example>");
    expect(redactSipMessage(invite("99#02079412345"))).toContain("From: <sip:99#02079******@carrier.example>");
  });

  it("takes out digest answers and STIR/SHAKEN tokens, keeping the scheme and the Identity parameters", () => {
    const text = redactSipMessage(
      invite("+442079412345", [
        'Authorization: Digest username="acme", realm="carrier.example", nonce="n1", response="6629fae49393a05397450978507c4ef1"',
        'Proxy-Authorization: Digest username="acme", response="0a4f113eaa"',
        "Identity: eyJhbGciOiJFUzI1NiJ9.eyJvcmlnIjp7InRuIjoiNDQyMDc5NDEyMzQ1In19.c2ln;info=<https://cert.example/c.pem>;alg=ES256;ppt=shaken",
      ]),
    );
    expect(text).toContain("Authorization: Digest <redacted>");
    expect(text).toContain("Proxy-Authorization: Digest <redacted>");
    expect(text).toContain("Identity: <redacted>;info=<https://cert.example/c.pem>;alg=ES256;ppt=shaken");
    for (const secret of ["acme", "6629fae4", "0a4f113eaa", "eyJ", "n1"]) expect(text).not.toContain(secret);
  });

  it("redacts compact forms, display names, folded headers and bare LF line ends as well", () => {
    const compact =
      'SIP/2.0 486 Busy Here\r\nf: "+442079412345" <sip:+442079412345@c>;tag=1\r\nContent-Length: 0\r\n\r\n';
    expect(redactSipMessage(compact)).toContain('f: "<redacted>" <sip:+442079******@c>;tag=1');
    const folded = 'INVITE sip:a@b SIP/2.0\r\nAuthorization: Digest username="acme",\r\n response="abc123"\r\n\r\n';
    expect(redactSipMessage(folded)).not.toMatch(/acme|abc123/);
    const bare = "SIP/2.0 180 Ringing\nFrom: <tel:+442079412345>;tag=2\nContent-Length: 0\n\n";
    expect(redactSipMessage(bare)).toContain("From: <tel:+442079******>;tag=2");
  });

  it("never lets a caller ID's code digits through, whatever its length and format", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[1-9][0-9]{9,13}$/),
        fc.constantFrom("+", "", "00", "99#"),
        fc.integer({ min: 4, max: 6 }),
        (digits, lead, codeLength) => {
          const cli = lead + digits;
          const text = redactSipMessage(invite(cli));
          const code = digits.slice(-codeLength);
          const from = text.split("\r\n").find((l) => l.startsWith("From:")) as string;
          const user = from.slice(from.indexOf("sip:") + 4, from.indexOf("@"));
          expect(user.endsWith("*".repeat(codeLength))).toBe(true);
          expect(user.replace(/\*/g, "")).toBe(lead + digits.slice(0, -6));
          expect(text.split("\r\n").filter((l) => l.includes(cli))).toEqual([]);
          expect(code.length).toBe(codeLength);
        },
      ),
    );
  });

  it("leaves a full trace as it was sent", () => {
    const message = invite("+442079412345", ['Authorization: Digest username="acme", response="abc"']);
    const entry = traceEntry("out", Buffer.from(message), "full", 1_000);
    expect(entry).toEqual({
      at: 1_000,
      dir: "out",
      first: "INVITE sip:+447400123456@carrier.example SIP/2.0",
      text: message,
    });
    expect(traceEntry("in", message, "redacted", 1).text).toBe(redactSipMessage(message));
  });
});
