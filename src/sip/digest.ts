/**
 * HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): answering a 401's
 * WWW-Authenticate or a 407's Proxy-Authenticate with MD5 or SHA-256 (and their -sess forms), `qop=auth` or no qop.
 *
 * A trunk challenges every INVITE, so answering each challenge afresh would cost a round trip per call. The
 * `DigestClient` keeps the last nonce it was given and answers the next INVITE pre-emptively with an incremented
 * `nc` (RFC 7616 §3.4); when the server no longer accepts that nonce it challenges again and the call answers that.
 * H(A1) is computed once per nonce (per realm for the non-sess forms), so a pre-emptive answer costs two small hashes.
 *
 * @example
 * const digest = new DigestClient({ username: "alice", password: "s3cret" });
 * const challenge = parseChallenge('Digest realm="sip.example", nonce="abc", qop="auth"', 407);
 * const line = digest.answer(challenge!, "INVITE", "sip:+447400123456@sip.example"); // "Proxy-Authorization: ..."
 */
import { createHash } from "node:crypto";
import { randomHex } from "./ids.js";
import type { DigestCredentials } from "./types.js";

type Algorithm = "MD5" | "MD5-sess" | "SHA-256" | "SHA-256-sess";

const HASHES: Record<Algorithm, "md5" | "sha256"> = {
  MD5: "md5",
  "MD5-sess": "md5",
  "SHA-256": "sha256",
  "SHA-256-sess": "sha256",
};

/** A challenge we can answer, from one WWW-Authenticate or Proxy-Authenticate value. */
export interface DigestChallenge {
  /** Which header answers it: 401 → Authorization, 407 → Proxy-Authorization. */
  readonly header: "Authorization" | "Proxy-Authorization";
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | null;
  readonly algorithm: Algorithm;
  /** Whether the challenge named its algorithm (the answer then names it too). */
  readonly algorithmNamed: boolean;
  /** "auth" when offered, else null (RFC 2069 style, no cnonce or nc). */
  readonly qop: "auth" | null;
  /** The nonce expired but the credentials were right (RFC 7616 §3.3): retry once with the new nonce. */
  readonly stale: boolean;
}

/**
 * Parses the first challenge we can answer out of a 401/407's challenge header values, in the server's order of
 * preference (RFC 8760 §2.4: a server lists SHA-256 before MD5). Null when none is a Digest challenge with a
 * supported algorithm and qop.
 * @example parseChallenges(['Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"'], 401)?.algorithm // "SHA-256"
 */
export function parseChallenges(values: readonly string[], status: number): DigestChallenge | null {
  for (const value of values) {
    const challenge = parseChallenge(value, status);
    if (challenge) return challenge;
  }
  return null;
}

/** One challenge value, or null when it is not one we can answer. */
export function parseChallenge(value: string, status: number): DigestChallenge | null {
  const space = value.indexOf(" ");
  if (space < 0 || value.slice(0, space).toLowerCase() !== "digest") return null;
  const params = parseAuthParams(value.slice(space + 1));
  const realm = params.get("realm");
  const nonce = params.get("nonce");
  if (realm === undefined || nonce === undefined) return null;
  const named = params.get("algorithm");
  const algorithm = canonicalAlgorithm(named ?? "MD5");
  if (!algorithm) return null;
  const qopOptions = params.get("qop");
  let qop: "auth" | null = null;
  if (qopOptions !== undefined) {
    // We send no bodies, but auth-int alone is rare enough that refusing it is simpler than hashing nothing.
    if (!qopOptions.split(",").some((q) => q.trim().toLowerCase() === "auth")) return null;
    qop = "auth";
  }
  return {
    header: status === 407 ? "Proxy-Authorization" : "Authorization",
    realm,
    nonce,
    opaque: params.get("opaque") ?? null,
    algorithm,
    algorithmNamed: named !== undefined,
    qop,
    stale: params.get("stale")?.toLowerCase() === "true",
  };
}

function canonicalAlgorithm(name: string): Algorithm | null {
  switch (name.toUpperCase()) {
    case "MD5":
      return "MD5";
    case "MD5-SESS":
      return "MD5-sess";
    case "SHA-256":
      return "SHA-256";
    case "SHA-256-SESS":
      return "SHA-256-sess";
  }
  return null;
}

/** `name=value` and `name="quoted, value"` pairs separated by commas; names lower-cased, quotes and escapes removed. */
export function parseAuthParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === ",")) i++;
    const eq = text.indexOf("=", i);
    if (eq < 0) break;
    const name = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (text[i] === " " || text[i] === "\t") i++;
    let value = "";
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      i++; // closing quote
    } else {
      const end = text.indexOf(",", i);
      value = text.slice(i, end < 0 ? undefined : end).trim();
      i = end < 0 ? text.length : end;
    }
    if (name) params.set(name, value);
  }
  return params;
}

/** The values a Digest response is computed from (RFC 7616 §3.4.1). */
export interface DigestInput {
  algorithm: Algorithm;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  qop: "auth" | null;
  /** 8 hex digits. */
  nc: string;
  cnonce: string;
}

/**
 * The `response` value: H(H(A1):nonce:nc:cnonce:qop:H(A2)) with qop, H(H(A1):nonce:H(A2)) without.
 * @example digestResponse({ algorithm: "MD5", username: "Mufasa", password: "Circle Of Life", ... })
 */
export function digestResponse(input: DigestInput): string {
  return responseFromHa1(ha1(input), input);
}

function ha1(input: DigestInput): string {
  const hash = HASHES[input.algorithm];
  const base = h(hash, `${input.username}:${input.realm}:${input.password}`);
  return input.algorithm.endsWith("-sess") ? h(hash, `${base}:${input.nonce}:${input.cnonce}`) : base;
}

function responseFromHa1(ha1Value: string, input: DigestInput): string {
  const hash = HASHES[input.algorithm];
  const ha2 = h(hash, `${input.method}:${input.uri}`);
  return input.qop
    ? h(hash, `${ha1Value}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`)
    : h(hash, `${ha1Value}:${input.nonce}:${ha2}`);
}

function h(algorithm: "md5" | "sha256", text: string): string {
  return createHash(algorithm).update(text, "utf8").digest("hex");
}

/** A quoted-string (RFC 3261 §25.1): backslash-escape quotes and backslashes. */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/** Nonces remembered at once; a trunk hands out one at a time, a few when concurrent calls are challenged together. */
const MAX_NONCES = 16;

/** The nonce a client answers with, and its counter. */
interface NonceState {
  challenge: DigestChallenge;
  nc: number;
  /** H(A1) for the non-sess algorithms, which do not depend on the nonce or cnonce. */
  ha1: string | null;
}

/**
 * Answers Digest challenges with one set of credentials and remembers the last nonce for pre-emptive answers.
 * One per UAC (per trunk).
 */
export class DigestClient {
  /** Nonces answered lately, by nonce: concurrent calls may be challenged with different ones and come back. */
  private readonly nonces = new Map<string, NonceState>();
  /** The nonce most recently challenged with: the one pre-emptive answers use. */
  private current: NonceState | null = null;

  constructor(private readonly credentials: DigestCredentials) {}

  /** Whether these credentials may answer this challenge (the realm matches when one is configured). */
  accepts(challenge: DigestChallenge): boolean {
    return this.credentials.realm === undefined || this.credentials.realm === challenge.realm;
  }

  /**
   * The header line answering `challenge` for this request; the challenge's nonce becomes the one later requests
   * answer pre-emptively.
   */
  answer(challenge: DigestChallenge, method: string, uri: string): string {
    let state = this.nonces.get(challenge.nonce);
    if (!state || state.challenge.realm !== challenge.realm || state.challenge.algorithm !== challenge.algorithm) {
      state = { challenge, nc: 0, ha1: null };
      this.nonces.delete(challenge.nonce);
      this.nonces.set(challenge.nonce, state);
      if (this.nonces.size > MAX_NONCES) this.nonces.delete(this.nonces.keys().next().value as string);
    }
    this.current = state;
    return this.line(state, method, uri);
  }

  /**
   * A header line for the last nonce with the next `nc`, and that nonce; null when there is none (or it had no
   * qop: without `nc` a reused nonce is a replay, which servers refuse).
   */
  preemptive(method: string, uri: string): { line: string; nonce: string } | null {
    const state = this.current;
    if (!state || state.challenge.qop === null) return null;
    return { line: this.line(state, method, uri), nonce: state.challenge.nonce };
  }

  /** Forget the nonce (its answer was refused): the next request waits for a fresh challenge. */
  forget(nonce: string): void {
    this.nonces.delete(nonce);
    if (this.current?.challenge.nonce === nonce) this.current = null;
  }

  private line(state: NonceState, method: string, uri: string): string {
    const { challenge } = state;
    state.nc++;
    const nc = state.nc.toString(16).padStart(8, "0");
    const cnonce = randomHex(16);
    const input: DigestInput = {
      algorithm: challenge.algorithm,
      username: this.credentials.username,
      password: this.credentials.password,
      realm: challenge.realm,
      nonce: challenge.nonce,
      method,
      uri,
      qop: challenge.qop,
      nc,
      cnonce,
    };
    let ha1Value: string;
    if (challenge.algorithm.endsWith("-sess")) ha1Value = ha1(input);
    else {
      state.ha1 ??= ha1(input);
      ha1Value = state.ha1;
    }
    const parts = [
      `Digest username=${quote(this.credentials.username)}`,
      `realm=${quote(challenge.realm)}`,
      `nonce=${quote(challenge.nonce)}`,
      `uri=${quote(uri)}`,
      `response="${responseFromHa1(ha1Value, input)}"`,
    ];
    if (challenge.algorithmNamed) parts.push(`algorithm=${challenge.algorithm}`);
    if (challenge.qop) parts.push(`cnonce="${cnonce}"`, `qop=${challenge.qop}`, `nc=${nc}`);
    if (challenge.opaque !== null) parts.push(`opaque=${quote(challenge.opaque)}`);
    return `${challenge.header}: ${parts.join(", ")}`;
  }
}
