/**
 * Interop: our STIR/SHAKEN Identity headers checked by Debian's `secsipidx` (asipto's reference implementation,
 * the one Kamailio's secsipid module uses). The key and a self-signed certificate come from openssl in a temp dir;
 * the certificate is served over HTTP at the x5u URL. secsipidx checks each header twice: from the command line
 * with the certificate file, and through its HTTP API, which fetches the certificate from x5u itself. One header is
 * taken off the wire: the INVITE a trunk with `stir_shaken` sent to SIPp.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalTn, createShakenSigner, type ShakenSigner } from "../src/sip/stir-shaken.js";
import { startTrunkRouter, TrunkSchema } from "../src/sip/trunks/index.js";
import { SipUac } from "../src/sip/uac.js";
import { headerValues, type SippMessage, startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const available =
  peerAvailable("secsipidx", () => commandExists("secsipidx")) &&
  peerAvailable("openssl", () => commandExists("openssl"));

const sipp = available && peerAvailable("sipp", () => commandExists("sipp"));

const ADDRESS = "127.0.0.40";
/** secsipidx calls a token without `-expire` expired at once. */
const EXPIRE_SECONDS = "300";

describe.skipIf(!available)("STIR/SHAKEN Identity checked by secsipidx", () => {
  let dir: string;
  let certServer: Server;
  let certFetches = 0;
  let x5u: string;
  let signer: ShakenSigner;
  let secsipidxApi: ReturnType<typeof spawn>;
  let apiUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flashverify-shaken-"));
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(dir, "key.pem")]);
    execFileSync("openssl", [
      ...["req", "-new", "-x509", "-key", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ...["-days", "2", "-subj", "/CN=flashverify test SP"],
    ]);
    const cert = readFileSync(join(dir, "cert.pem"));
    certServer = createServer((req, res) => {
      if (req.url !== "/sp.pem") return void res.writeHead(404).end();
      certFetches++;
      res.writeHead(200, { "content-type": "application/x-pem-file" }).end(cert);
    });
    await new Promise<void>((resolve) => certServer.listen(0, ADDRESS, resolve));
    x5u = `http://${ADDRESS}:${(certServer.address() as { port: number }).port}/sp.pem`;
    signer = createShakenSigner({ privateKeyPem: readFileSync(join(dir, "key.pem"), "utf8"), x5u, attest: "A" });

    const apiPort = await freeTcpPort();
    apiUrl = `http://${ADDRESS}:${apiPort}/v1/check`;
    secsipidxApi = spawn("secsipidx", ["-http-srv", `${ADDRESS}:${apiPort}`, "-expire", EXPIRE_SECONDS], {
      stdio: "ignore",
    });
    await waitForHttp(`http://${ADDRESS}:${apiPort}/`);
  });

  afterAll(async () => {
    secsipidxApi?.kill("SIGTERM");
    await new Promise((resolve) => certServer?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** secsipidx -check with the certificate file: exit 0 and "ok" when valid. */
  function checkWithCertFile(identity: string): { ok: boolean; output: string } {
    const run = spawnSync(
      "secsipidx",
      ["-check", "-identity", identity, "-p", join(dir, "cert.pem"), "-expire", EXPIRE_SECONDS],
      { encoding: "utf8" },
    );
    const output = `${run.stdout}${run.stderr}`.trim();
    return { ok: run.status === 0 && /^ok$/m.test(output), output };
  }

  /** secsipidx's HTTP API, which fetches the certificate from the header's x5u. */
  async function checkThroughApi(identity: string): Promise<string> {
    const response = await fetch(apiUrl, { method: "POST", body: identity });
    return (await response.text()).trim();
  }

  it("writes the PASSporT ATIS-1000074 describes: ES256, ppt shaken, x5u, tn digits without +", async () => {
    const identity = await signer.identity("+442079412345", "+447400123456");
    const [jws, ...params] = identity.split(";");
    expect(params).toEqual([`info=<${x5u}>`, "alg=ES256", "ppt=shaken"]);
    const [header, payload] = (jws as string)
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
    expect(header).toEqual({ alg: "ES256", typ: "passport", ppt: "shaken", x5u });
    expect(payload).toMatchObject({ attest: "A", orig: { tn: "442079412345" }, dest: { tn: ["447400123456"] } });
    expect(payload.iat).toBeCloseTo(Date.now() / 1000, -1);
    expect(payload.origid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("is accepted by secsipidx, from the certificate file and from x5u", async () => {
    const identity = await signer.identity("+442079412345", "+447400123456");
    expect(checkWithCertFile(identity)).toEqual({ ok: true, output: "ok" });
    const fetchesBefore = certFetches;
    expect(await checkThroughApi(identity)).toBe("OK");
    expect(certFetches).toBeGreaterThan(fetchesBefore);
  });

  it("is rejected by secsipidx when a claim is changed after signing", async () => {
    const identity = await signer.identity("+442079412345", "+447400123456");
    const [header, payload, signature] = (identity.split(";")[0] as string).split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    claims.orig.tn = "442079419999"; // another caller ID, the original signature
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
    const tampered = identity.replace(/^[^;]+/, forged);
    expect(checkWithCertFile(tampered).ok).toBe(false);
    expect(await checkThroughApi(tampered)).not.toBe("OK");
  });

  it("is rejected by secsipidx when the signature is changed", async () => {
    const identity = await signer.identity("+442079412345", "+447400123456");
    const [jws, ...params] = identity.split(";");
    const [header, payload, signature] = (jws as string).split(".") as [string, string, string];
    const bytes = Buffer.from(signature, "base64url");
    bytes[10] = (bytes[10] as number) ^ 0xff;
    const tampered = [`${header}.${payload}.${bytes.toString("base64url")}`, ...params].join(";");
    expect(checkWithCertFile(tampered).ok).toBe(false);
    expect(await checkThroughApi(tampered)).not.toBe("OK");
  });

  it.skipIf(!sipp)(
    "goes out on the INVITE of a trunk with stir_shaken, and secsipidx accepts it from the wire",
    async () => {
      const handset = await startSipp({ scenario: "uas-ring-cancel.xml", address: "127.0.0.41" });
      const router = await startTrunkRouter({
        trunks: [
          TrunkSchema.parse({
            id: "signed",
            host: handset.address,
            port: handset.port,
            stir_shaken: { key_file: join(dir, "key.pem"), x5u, attest: "B" },
          }),
        ],
        localAddress: ADDRESS,
        t1Ms: 100,
        startCaller: (options) => SipUac.create(options),
      });
      try {
        const call = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 50, maxDialMs: 5000 };
        expect(await router.placeCall(call).done).toMatchObject({ reason: "ringing_canceled" });
      } finally {
        await router.close();
      }
      const run = await handset.result;
      const invite = run.messages.find((m) => m.direction === "received" && m.startLine.startsWith("INVITE "));
      const [identity] = headerValues(invite as SippMessage, "Identity");
      expect(checkWithCertFile(identity as string)).toEqual({ ok: true, output: "ok" });
      const claims = JSON.parse(Buffer.from((identity as string).split(".")[1] as string, "base64url").toString());
      expect(claims).toMatchObject({ attest: "B", orig: { tn: "442079412345" }, dest: { tn: ["447400123456"] } });
    },
  );

  it("verifies a signature made with another key as invalid (the certificate decides)", async () => {
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(dir, "other.pem")]);
    const other = createShakenSigner({ privateKeyPem: readFileSync(join(dir, "other.pem"), "utf8"), x5u, attest: "C" });
    expect(checkWithCertFile(await other.identity("+442079412345", "+447400123456")).ok).toBe(false);
  });
});

describe("STIR/SHAKEN signer options", () => {
  it("refuses a key that is not EC P-256, naming the problem", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" });
    expect(() =>
      createShakenSigner({ privateKeyPem: rsa as string, x5u: "https://a.example/c.pem", attest: "A" }),
    ).toThrow(/must be EC P-256/);
    expect(() =>
      createShakenSigner({ privateKeyPem: "nonsense", x5u: "https://a.example/c.pem", attest: "A" }),
    ).toThrow(/not a readable PEM private key/);
  });

  it("writes telephone numbers as digits only", () => {
    expect(canonicalTn("+44 20 7941-2345")).toBe("442079412345");
  });
});

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.once("error", reject);
    server.listen(0, ADDRESS, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}
