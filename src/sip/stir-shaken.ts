/**
 * STIR/SHAKEN signing (RFC 8224, RFC 8225, RFC 8588): a PASSporT per INVITE, signed ES256 with the trunk's key,
 * carried in the `Identity` header. The key is imported once per signer; each call costs one ECDSA P-256
 * signature (measured with `npm run bench:shaken`).
 *
 * Telephone numbers in the claims are the canonical form of ATIS-1000074: digits only, no "+".
 *
 * @example
 * const signer = createShakenSigner({ privateKeyPem, x5u: "https://certs.example.com/sp.pem", attest: "A" });
 * const identity = await signer.identity("+442079412345", "+447400123456");
 * // "eyJhbGciOiJFUzI1NiIs...;info=<https://certs.example.com/sp.pem>;alg=ES256;ppt=shaken"
 */
import { createPrivateKey, type KeyObject, randomUUID } from "node:crypto";
import { CompactSign } from "jose";

/** A: we know the caller and that it may use the number; B: we know the caller only; C: we only pass it on. */
export type Attestation = "A" | "B" | "C";

export interface ShakenSignerOptions {
  /** EC P-256 private key, PEM (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY"). */
  privateKeyPem: string;
  /** HTTPS URL of the certificate (chain) that verifies the signatures. */
  x5u: string;
  attest: Attestation;
  /** Clock for `iat`, epoch ms. Default Date.now. */
  now?: () => number;
}

export interface ShakenSigner {
  /** The `Identity` header value for a call from `orig` to `dest` (E.164, with or without "+"). */
  identity(orig: string, dest: string): Promise<string>;
}

/**
 * Imports the key once and returns a signer.
 * @throws Error naming the problem when the key is not an EC P-256 private key or x5u is not an http(s) URL
 */
export function createShakenSigner(options: ShakenSignerOptions): ShakenSigner {
  const key = importKey(options.privateKeyPem);
  if (!/^https?:\/\/\S+$/.test(options.x5u)) throw new Error(`x5u must be an http(s) URL, got "${options.x5u}"`);
  const header = { alg: "ES256", typ: "passport", ppt: "shaken", x5u: options.x5u };
  const suffix = `;info=<${options.x5u}>;alg=ES256;ppt=shaken`;
  const now = options.now ?? Date.now;
  const encoder = new TextEncoder();
  return {
    async identity(orig, dest) {
      const claims = {
        attest: options.attest,
        dest: { tn: [canonicalTn(dest)] },
        iat: Math.floor(now() / 1000),
        orig: { tn: canonicalTn(orig) },
        origid: randomUUID(),
      };
      const jws = await new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader(header).sign(key);
      return jws + suffix;
    },
  };
}

/** "+44 20 7941-2345" -> "442079412345". */
export function canonicalTn(number: string): string {
  return number.replace(/\D/g, "");
}

function importKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`STIR/SHAKEN key is not a readable PEM private key: ${(error as Error).message}`);
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || curve !== "prime256v1") {
    throw new Error(`STIR/SHAKEN key must be EC P-256 (ES256), got ${key.asymmetricKeyType} ${curve ?? ""}`.trim());
  }
  return key;
}
