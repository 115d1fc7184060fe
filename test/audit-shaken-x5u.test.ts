/**
 * The x5u of an inbound call's Identity header is a URL the caller's side chose, and the server fetches it. It goes
 * through the same SSRF guard as webhooks: an x5u on a loopback (or private, link-local...) address, by literal or
 * by a name resolving there, is never requested unless WEBHOOK_ALLOW_PRIVATE allows the class, and the call gets
 * RFC 8224's 436. A certificate server streaming without end is cut off at the size bound.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShakenVerifier } from "../src/sip/shaken-verifier.js";
import { createShakenSigner } from "../src/sip/stir-shaken.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const ADDRESS = "127.0.26.10";
const CALL = { orig: "+447400123456", dest: "+442079460999" };
const openssl = peerAvailable("openssl", () => commandExists("openssl"));

describe.skipIf(!openssl)("STIR/SHAKEN x5u fetches through the SSRF guard", () => {
  let dir: string;
  let server: Server;
  let base: string;
  let key: string;
  let cert: string;
  const requests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flashverify-audit-x5u-"));
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(dir, "key.pem")]);
    execFileSync("openssl", [
      ...["req", "-new", "-x509", "-key", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ...["-days", "2", "-subj", "/CN=flashverify audit carrier"],
    ]);
    key = readFileSync(join(dir, "key.pem"), "utf8");
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      if (req.url === "/endless.pem") {
        res.writeHead(200);
        const chunk = Buffer.alloc(16_384, 65);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once("drain", pump);
        };
        pump();
        return;
      }
      res.writeHead(200, { "content-type": "application/x-pem-file" }).end(cert);
    });
    await new Promise<void>((resolve) => server.listen(0, ADDRESS, resolve));
    base = `http://${ADDRESS}:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const identity = (x5u: string) =>
    createShakenSigner({ privateKeyPem: key, x5u, attest: "A" }).identity(CALL.orig, CALL.dest);

  it("never requests an x5u on a loopback address, named or literal, and answers 436", async () => {
    const verifier = new ShakenVerifier({ trusted: [cert] });
    const port = (server.address() as { port: number }).port;
    for (const x5u of [`${base}/literal.pem`, `http://localhost:${port}/named.pem`]) {
      const result = await verifier.verify(await identity(x5u), CALL);
      expect(result).toMatchObject({ ok: false, sipCode: 436 });
      expect((result as { reason: string }).reason).toContain("loopback");
    }
    expect(requests).toEqual([]);
  });

  it("fetches it where the operator allows loopback, and cuts off an endless certificate", async () => {
    const verifier = new ShakenVerifier({ trusted: [cert], allowed: new Set(["loopback"]) });
    expect(await verifier.verify(await identity(`${base}/carrier.pem`), CALL)).toEqual({ ok: true, attest: "A" });
    const endless = await verifier.verify(await identity(`${base}/endless.pem`), CALL);
    expect(endless).toMatchObject({ ok: false, sipCode: 436 });
    expect((endless as { reason: string }).reason).toContain("too large");
    expect(requests).toEqual(["/carrier.pem", "/endless.pem"]);
  });
});
