/**
 * STIR/SHAKEN verification (RFC 8224, RFC 8225, RFC 8588) of an inbound INVITE's `Identity` header: the PASSporT's
 * signature under the certificate its `x5u` names, that certificate issued by (or being) one the operator trusts
 * and valid now, the token fresh (`iat` within `maxAgeSeconds`, RFC 8224 §6.2.1 suggests 60 s), and its claims
 * naming this call: `orig.tn` the caller, `dest.tn` the number dialled. Certificates are fetched once per x5u and
 * kept for `cacheMs`.
 *
 * @example
 * const verifier = new ShakenVerifier({ trusted: [readFileSync("sti-ca.pem", "utf8")] });
 * await verifier.verify(identity, { orig: "+447400123456", dest: "+442079460999" }); // { ok: true, attest: "A" }
 */
import { X509Certificate } from "node:crypto";
import { compactVerify, decodeProtectedHeader } from "jose";
import type { Attestation } from "./stir-shaken.js";
import { canonicalTn } from "./stir-shaken.js";

export type ShakenResult =
  | { ok: true; attest: Attestation }
  /** RFC 8224's answers: 436 the certificate could not be had, 437 it is not trusted, 438 the header is invalid */
  | { ok: false; sipCode: 436 | 437 | 438; reason: string };

export interface ShakenVerifierOptions {
  /** trusted certificates, PEM (one or more per string): STI-CAs or the signing certificates themselves */
  trusted: readonly string[];
  /** default 60 */
  maxAgeSeconds?: number;
  /** how long a fetched certificate is kept; default 1 hour */
  cacheMs?: number;
  /** reads the certificate at x5u; default an HTTP(S) GET of at most 64 KiB with a 2 s deadline */
  fetchCertificate?: (url: string) => Promise<string>;
  now?: () => number;
}

const MAX_CERT_BYTES = 65_536;

export class ShakenVerifier {
  private readonly trusted: X509Certificate[];
  private readonly cache = new Map<string, { at: number; cert: Promise<X509Certificate> }>();

  constructor(private readonly options: ShakenVerifierOptions) {
    this.trusted = options.trusted.flatMap(splitPem).map((pem) => new X509Certificate(pem));
  }

  async verify(header: string, call: { orig: string; dest: string }): Promise<ShakenResult> {
    const invalid = (reason: string): ShakenResult => ({ ok: false, sipCode: 438, reason });
    const jws = header.split(";")[0]?.trim() ?? "";
    let x5u: unknown;
    try {
      const protectedHeader = decodeProtectedHeader(jws);
      if (protectedHeader.alg !== "ES256" || protectedHeader.ppt !== "shaken")
        return invalid("not an ES256 shaken PASSporT");
      x5u = protectedHeader.x5u;
    } catch {
      return invalid("unreadable PASSporT");
    }
    if (typeof x5u !== "string" || !/^https?:\/\/\S+$/.test(x5u)) return invalid("no http(s) x5u");
    let cert: X509Certificate;
    try {
      cert = await this.certificate(x5u);
    } catch (error) {
      return { ok: false, sipCode: 436, reason: `certificate unavailable: ${(error as Error).message}` };
    }
    const now = this.options.now?.() ?? Date.now();
    if (!this.isTrusted(cert, now))
      return { ok: false, sipCode: 437, reason: "certificate not trusted or not valid now" };
    let claims: Record<string, unknown>;
    try {
      const { payload } = await compactVerify(jws, cert.publicKey);
      claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    } catch {
      return invalid("signature does not verify");
    }
    const iat = typeof claims.iat === "number" ? claims.iat : Number.NaN;
    if (!(Math.abs(now / 1000 - iat) <= (this.options.maxAgeSeconds ?? 60))) return invalid("stale or missing iat");
    const orig = (claims.orig as { tn?: unknown } | undefined)?.tn;
    const dest = (claims.dest as { tn?: unknown } | undefined)?.tn;
    if (orig !== canonicalTn(call.orig)) return invalid("orig.tn is not the caller");
    if (!Array.isArray(dest) || !dest.includes(canonicalTn(call.dest)))
      return invalid("dest.tn is not the number dialled");
    const attest = claims.attest;
    if (attest !== "A" && attest !== "B" && attest !== "C") return invalid("no attestation level");
    return { ok: true, attest };
  }

  private isTrusted(cert: X509Certificate, now: number): boolean {
    const valid = (c: X509Certificate) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
    if (!valid(cert)) return false;
    return this.trusted.some(
      (anchor) =>
        anchor.fingerprint256 === cert.fingerprint256 ||
        (valid(anchor) && cert.checkIssued(anchor) && cert.verify(anchor.publicKey)),
    );
  }

  private certificate(url: string): Promise<X509Certificate> {
    const now = Date.now();
    const cached = this.cache.get(url);
    if (cached && now - cached.at < (this.options.cacheMs ?? 3_600_000)) return cached.cert;
    const fetchPem = this.options.fetchCertificate ?? fetchCertificate;
    const cert = fetchPem(url).then((pem) => new X509Certificate(splitPem(pem)[0] ?? pem));
    this.cache.set(url, { at: now, cert });
    // A failed fetch is not kept: the next call tries again.
    cert.catch(() => this.cache.delete(url));
    return cert;
  }
}

async function fetchCertificate(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: "error" });
  if (!response.ok) throw new Error(`x5u answered ${response.status}`);
  const body = await response.text();
  if (body.length > MAX_CERT_BYTES) throw new Error("x5u certificate too large");
  return body;
}

/** Each certificate of a PEM bundle. */
function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
