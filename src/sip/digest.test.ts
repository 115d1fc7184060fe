import { describe, expect, it } from "vitest";
import { DigestClient, digestResponse, parseAuthParams, parseChallenge, parseChallenges } from "./digest.js";

/** RFC 7616 §3.9.1's worked example (the same request with MD5 and with SHA-256). */
const RFC7616 = {
  username: "Mufasa",
  password: "Circle of Life",
  realm: "http-auth@example.org",
  nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
  method: "GET",
  uri: "/dir/index.html",
  qop: "auth",
  nc: "00000001",
  cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
} as const;

describe("digestResponse", () => {
  it("matches RFC 7616 §3.9.1 for SHA-256 and MD5", () => {
    expect(digestResponse({ ...RFC7616, algorithm: "SHA-256" })).toBe(
      "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    );
    expect(digestResponse({ ...RFC7616, algorithm: "MD5" })).toBe("8ca523f5e9506fed4657c9700eebdbec");
  });

  it("matches RFC 2617 §3.5 (MD5, qop=auth)", () => {
    expect(
      digestResponse({
        algorithm: "MD5",
        username: "Mufasa",
        password: "Circle Of Life",
        realm: "testrealm@host.com",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        method: "GET",
        uri: "/dir/index.html",
        qop: "auth",
        nc: "00000001",
        cnonce: "0a4f113b",
      }),
    ).toBe("6629fae49393a05397450978507c4ef1");
  });
});

describe("parseChallenge", () => {
  it("reads quoted and bare parameters, commas inside quotes, escapes", () => {
    const params = parseAuthParams('realm="a, \\"b\\"", nonce=xyz ,qop="auth,auth-int", stale=TRUE');
    expect(Object.fromEntries(params)).toEqual({ realm: 'a, "b"', nonce: "xyz", qop: "auth,auth-int", stale: "TRUE" });
  });

  it("takes qop=auth when offered, no qop when absent, and refuses what it cannot answer", () => {
    expect(parseChallenge('Digest realm="r", nonce="n", qop="auth-int,auth"', 401)).toMatchObject({
      header: "Authorization",
      qop: "auth",
      algorithm: "MD5",
      algorithmNamed: false,
      stale: false,
    });
    expect(parseChallenge('Digest realm="r", nonce="n", stale=true', 407)).toMatchObject({
      header: "Proxy-Authorization",
      qop: null,
      stale: true,
    });
    expect(parseChallenge('Digest realm="r", nonce="n", qop="auth-int"', 401)).toBeNull();
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-512-256', 401)).toBeNull();
    expect(parseChallenge('Basic realm="r"', 401)).toBeNull();
    expect(parseChallenge('Digest nonce="n"', 401)).toBeNull();
  });

  it("takes the first challenge it supports, in the server's order (RFC 8760)", () => {
    const values = [
      'Digest realm="r", nonce="n1", algorithm=SHA-512-256, qop="auth"',
      'Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth"',
      'Digest realm="r", nonce="n3", algorithm=MD5, qop="auth"',
    ];
    expect(parseChallenges(values, 401)).toMatchObject({ nonce: "n2", algorithm: "SHA-256" });
  });
});

describe("DigestClient", () => {
  const fields = (line: string) => Object.fromEntries(parseAuthParams(line.slice(line.indexOf("Digest ") + 7)));

  it("answers with a response the server can recompute, a fresh CSPRNG cnonce and an incrementing nc", () => {
    const client = new DigestClient({ username: "alice", password: "s3cret" });
    const challenge = parseChallenge(
      'Digest realm="sip.example", nonce="n1", opaque="o", algorithm=SHA-256, qop="auth"',
      407,
    )!;
    const uri = "sip:+447400123456@sip.example";
    const first = client.answer(challenge, "INVITE", uri);
    expect(first.startsWith("Proxy-Authorization: Digest ")).toBe(true);
    const a = fields(first);
    expect(a).toMatchObject({
      username: "alice",
      realm: "sip.example",
      nonce: "n1",
      uri,
      algorithm: "SHA-256",
      qop: "auth",
      nc: "00000001",
      opaque: "o",
    });
    expect(a.cnonce).toMatch(/^[0-9a-f]{32}$/);
    const expected = digestResponse({
      algorithm: "SHA-256",
      username: "alice",
      password: "s3cret",
      realm: "sip.example",
      nonce: "n1",
      method: "INVITE",
      uri,
      qop: "auth",
      nc: "00000001",
      cnonce: a.cnonce!,
    });
    expect(a.response).toBe(expected);

    const next = client.preemptive("INVITE", uri);
    expect(next?.nonce).toBe("n1");
    const b = fields(next!.line);
    expect(b.nc).toBe("00000002");
    expect(b.cnonce).not.toBe(a.cnonce);
    expect(b.response).toBe(
      digestResponse({
        algorithm: "SHA-256",
        username: "alice",
        password: "s3cret",
        realm: "sip.example",
        nonce: "n1",
        method: "INVITE",
        uri,
        qop: "auth",
        nc: "00000002",
        cnonce: b.cnonce!,
      }),
    );

    client.forget("n1");
    expect(client.preemptive("INVITE", uri)).toBeNull();
  });

  it("answers a challenge without qop RFC 2069 style and never reuses its nonce", () => {
    const client = new DigestClient({ username: "alice", password: "s3cret" });
    const line = client.answer(parseChallenge('Digest realm="r", nonce="n"', 401)!, "INVITE", "sip:x@r");
    expect(line.startsWith("Authorization: Digest ")).toBe(true);
    const a = fields(line);
    expect(a).not.toHaveProperty("nc");
    expect(a).not.toHaveProperty("cnonce");
    expect(a).not.toHaveProperty("algorithm");
    expect(a.response).toBe(
      digestResponse({
        algorithm: "MD5",
        username: "alice",
        password: "s3cret",
        realm: "r",
        nonce: "n",
        method: "INVITE",
        uri: "sip:x@r",
        qop: null,
        nc: "",
        cnonce: "",
      }),
    );
    expect(client.preemptive("INVITE", "sip:x@r")).toBeNull();
  });

  it("quotes a username with a quote or backslash, and keeps to its realm when one is configured", () => {
    const client = new DigestClient({ username: 'a"b\\c', password: "p", realm: "mine" });
    expect(client.accepts(parseChallenge('Digest realm="other", nonce="n"', 401)!)).toBe(false);
    const challenge = parseChallenge('Digest realm="mine", nonce="n", qop="auth"', 401)!;
    expect(client.accepts(challenge)).toBe(true);
    expect(client.answer(challenge, "INVITE", "sip:x@r")).toContain('username="a\\"b\\\\c"');
  });
});
