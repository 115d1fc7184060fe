/**
 * `npm run bench:shaken`: how many STIR/SHAKEN Identity headers one core signs per second (one ES256 PASSporT each,
 * the key imported once), with a fresh P-256 key. Prints the rate, the time per signature and the command.
 */
import { generateKeyPairSync } from "node:crypto";
import { createShakenSigner } from "../src/sip/stir-shaken.js";

const seconds = Number(process.argv[2] ?? 3);
const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const signer = createShakenSigner({
  privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  x5u: "https://certs.example.com/sp.pem",
  attest: "A",
});

// Warm up the JIT, then sign for `seconds` seconds, 100 at a time as concurrent INVITEs would ask.
for (let i = 0; i < 2000; i++) await signer.identity("+442079412345", "+447400123456");
const start = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let signed = 0;
while (process.hrtime.bigint() - start < BigInt(seconds * 1e9)) {
  const batch: Promise<string>[] = [];
  for (let i = 0; i < 100; i++) batch.push(signer.identity("+442079412345", `+4474001${String(i).padStart(5, "0")}`));
  await Promise.all(batch);
  signed += batch.length;
}
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpu0);
console.log(`command: npm run bench:shaken${process.argv[2] ? ` -- ${process.argv[2]}` : ""}`);
console.log(`node ${process.version}, ${seconds} s: ${signed} Identity headers signed (ES256)`);
console.log(
  `${Math.round(signed / elapsed)} signatures/s, ${((elapsed / signed) * 1e6).toFixed(1)} µs each, CPU ${Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100)}% of one core`,
);
