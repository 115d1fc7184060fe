/**
 * STIR/SHAKEN verification (RFC 8224, RFC 8225, RFC 8588) of an inbound INVITE's `Identity` header: the PASSporT's
 * signature under the certificate its `x5u` names, that certificate issued by (or being) one the operator trusts
 * and valid now, the token fresh (`iat` within `maxAgeSeconds`, RFC 8224 §6.2.1 suggests 60 s), and its claims
 * naming this call: `orig.tn` the caller, `dest.tn` the number dialled. Certificates are fetched once per x5u and
 * kept for `cacheMs`. The x5u comes with the call, from whoever signed it, so its fetch passes the webhooks' SSRF
 * guard: the host resolved and checked, the socket pinned to the checked address, no redirect.
 *
 * @example
 * const verifier = new ShakenVerifier({ trusted: [readFileSync("sti-ca.pem", "utf8")] });
 * await verifier.verify(identity, { orig: "+447400123456", dest: "+442079460999" }); // { ok: true, attest: "A" }
 */
import { X509Certificate } from "node:crypto";
import { get as httpGet, type IncomingMessage } from "node:http";
import { get as httpsGet } from "node:https";
import { compactVerify, decodeProtectedHeader } from "jose";
import { type AddressClass, AddressRefused, classifyAddress, resolveAllowed } from "../events/address-guard.js";
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
  /** address classes the default fetch may reach besides public ones (WEBHOOK_ALLOW_PRIVATE); default none */
  allowed?: ReadonlySet<AddressClass>;
  now?: () => number;
}

const MAX_CERT_BYTES = 65_536;
const MAX_CACHED = 1000;

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
    const allowed = this.options.allowed ?? new Set<AddressClass>();
    const fetchPem = this.options.fetchCertificate ?? ((x5u: string) => fetchCertificate(x5u, allowed));
    const cert = fetchPem(url).then((pem) => new X509Certificate(splitPem(pem)[0] ?? pem));
    // Each call may name an x5u of its own: the cache is bounded, and starts over when full.
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(url, { at: now, cert });
    // A failed fetch is not kept: the next call tries again.
    cert.catch(() => this.cache.delete(url));
    return cert;
  }
}

/** GET of the certificate at `url`, only from an allowed address, at most MAX_CERT_BYTES, within 2 s. */
async function fetchCertificate(url: string, allowed: ReadonlySet<AddressClass>): Promise<string> {
  const target = new URL(url);
  const pinned = await resolveAllowed(target.hostname, allowed);
  const get = target.protocol === "https:" ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const req = get(
      target,
      {
        signal: AbortSignal.timeout(2000),
        lookup: (_host, options, callback) => {
          if (options.all) callback(null, [pinned]);
          else callback(null, pinned.address, pinned.family);
        },
      },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`x5u answered ${res.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_CERT_BYTES) req.destroy(new Error("x5u certificate too large"));
          else chunks.push(chunk);
        });
        res.on("error", reject);
        res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      },
    );
    req.on("socket", (socket) => {
      socket.once("connect", () => {
        const remote = socket.remoteAddress ?? "";
        const kind = classifyAddress(remote);
        if (kind !== "public" && !allowed.has(kind)) req.destroy(new AddressRefused(target.hostname, remote, kind));
      });
    });
    req.on("error", reject);
  });
}

/** Each certificate of a PEM bundle. */
function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
