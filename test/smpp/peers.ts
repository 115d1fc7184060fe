/**
 * The SMSCs the SMPP conformance suite runs against: the sandbox's own (src/sandbox/smsc.ts) and Net::SMPP from
 * Debian's libnet-smpp-perl, driven by test/smpp/net-smpp-smsc.pl, which reports what it received as JSON lines.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { decodeGsm7 } from "../../src/channels/sms-smpp/gsm7.js";
import { DATA_CODING_UCS2, ESM_CLASS_UDHI, readConcatHeader } from "../../src/channels/sms-smpp/segments.js";
import type { PeerSubmit, SmscPeer } from "../../src/channels/sms-smpp/smsc-peer.js";
import { VirtualSmsc } from "../../src/sandbox/smsc.js";

export async function sandboxSmscPeer(address: string): Promise<SmscPeer> {
  const smsc = await VirtualSmsc.create({ address, port: 0, receiptDelayMs: 20 });
  return {
    host: smsc.local.address,
    port: smsc.local.port,
    ...smsc.credentials,
    submits: () => smsc.observed,
    close: () => smsc.close(),
  };
}

const SCRIPT = fileURLToPath(new URL("./net-smpp-smsc.pl", import.meta.url));

export async function netSmppPeer(address: string): Promise<SmscPeer> {
  const child = spawn("perl", [SCRIPT, address, "flashverify", "s3cret"], { stdio: ["ignore", "pipe", "inherit"] });
  const submits: PeerSubmit[] = [];
  const lines = createInterface({ input: child.stdout });
  const listening = new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`net-smpp-smsc.pl exited with ${code}`)));
    lines.on("line", (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      if (event.event === "listening") resolve(event.port as number);
      if (event.event === "submit") submits.push(decodeObserved(event));
    });
  });
  const port = await listening;
  return {
    host: address,
    port,
    systemId: "flashverify",
    password: "s3cret",
    submits: () => submits,
    async close() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

function decodeObserved(event: Record<string, unknown>): PeerSubmit {
  const payload = Buffer.from(event.short_message_hex as string, "hex");
  const esmClass = event.esm_class as number;
  const dataCoding = event.data_coding as number;
  const udh = (esmClass & ESM_CLASS_UDHI) !== 0;
  const body = udh ? payload.subarray((payload[0] ?? 0) + 1) : payload;
  let text = "";
  if (dataCoding === DATA_CODING_UCS2) {
    for (let i = 0; i + 1 < body.length; i += 2) text += String.fromCharCode(body.readUInt16BE(i));
  } else {
    text = decodeGsm7(body);
  }
  return {
    to: event.to as string,
    sourceAddr: event.source_addr as string,
    sourceTon: event.source_ton as number,
    sourceNpi: event.source_npi as number,
    destTon: event.dest_ton as number,
    destNpi: event.dest_npi as number,
    dataCoding,
    esmClass,
    text,
    concat: udh ? readConcatHeader(payload) : null,
  };
}
