/**
 * The virtual carrier's SMSC: a real SMPP 3.4 server (the `smpp` package's) on loopback that takes submit_sm from
 * the SMS channel, reassembles concatenated parts, delivers the text to the virtual handset's message list and
 * answers with delivery receipts, the way a carrier's SMSC would.
 *
 * Test numbers, by the destination's last four digits:
 * - `0499`: submit_sm refused with ESME_RINVDSTADR (the SMSC rejects the number: result `rejected`)
 * - `0498`: accepted, then a receipt with `stat:UNDELIV` (the phone is off for good: result `undeliverable`)
 * - `0497`: the SMSC drops the link on receiving it, without answering (the outcome is unknown to the sender)
 * - anything else: accepted, delivered to the handset, then `stat:DELIVRD`
 *
 * @example
 * const smsc = await VirtualSmsc.create({ port: 0 });
 * // ... bind as smsc.credentials, submit to +447400123456 ...
 * smsc.messages("+447400123456")[0]; // { channel: "sms", from: "Acme", text: "Your code is 123456", ... }
 */
import type { AddressInfo } from "node:net";
import smpp from "smpp";
import { readConcatHeader } from "../channels/sms-smpp/segments.js";
import type { PeerSubmit } from "../channels/sms-smpp/smsc-peer.js";

export interface SandboxMessage {
  channel: "sms";
  /** the sender id as the handset shows it: "+E.164", a short code or letters */
  from: string;
  to: string;
  text: string;
  receivedAt: number;
}

/** What the SMSC saw of each submit_sm: what any SMSC of the conformance suite reports, and its answer. */
export interface ObservedSubmit extends PeerSubmit {
  registeredDelivery: number;
  /** null when refused or dropped */
  messageId: string | null;
}

export interface VirtualSmscOptions {
  /** Default "127.0.0.2" (each loopback component gets its own address). */
  address?: string;
  /** Default 2775; 0 = ephemeral. */
  port?: number;
  systemId?: string;
  password?: string;
  /** Delay before a delivery receipt. Default 100 ms. */
  receiptDelayMs?: number;
  /** Messages kept per phone, oldest dropped. Default 20. */
  maxMessagesPerPhone?: number;
  /** Phones kept, least recently messaged dropped. Default 100_000. */
  maxPhones?: number;
  now?: () => number;
}

interface PendingConcat {
  parts: Array<string | undefined>;
  received: number;
}

const STATUS_INVALID_DESTINATION = 0x0b;

export class VirtualSmsc {
  readonly local: { address: string; port: number };
  readonly credentials: { systemId: string; password: string };
  /** every submit_sm seen, oldest first (bounded) */
  readonly observed: ObservedSubmit[] = [];
  private readonly phones = new Map<string, SandboxMessage[]>();
  private readonly concat = new Map<string, PendingConcat>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextMessageId = 1;

  static async create(options: VirtualSmscOptions = {}): Promise<VirtualSmsc> {
    const server = smpp.createServer({});
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 2775, options.address ?? "127.0.0.2", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new VirtualSmsc(server, options);
  }

  private constructor(
    private readonly server: smpp.Server,
    private readonly options: VirtualSmscOptions,
  ) {
    const { address, port } = server.address() as AddressInfo;
    this.local = { address, port };
    this.credentials = { systemId: options.systemId ?? "flashverify", password: options.password ?? "sandbox" };
    server.on("session", (session) => this.serve(session));
  }

  /** The messages a phone received, newest first. */
  messages(phone: string): SandboxMessage[] {
    return [...(this.phones.get(phone) ?? [])].reverse();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const session of [...this.server.sessions]) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(session: smpp.Session): void {
    let bound = false;
    session.on("error", () => session.destroy());
    session.on("pdu", (pdu: smpp.PDU) => {
      switch (pdu.command) {
        case "bind_transceiver":
        case "bind_transmitter": {
          const ok = pdu.system_id === this.credentials.systemId && pdu.password === this.credentials.password;
          bound = ok;
          session.send(pdu.response({ command_status: ok ? 0 : smpp.ESME_RINVPASWD, system_id: "sandbox-smsc" }));
          return;
        }
        case "submit_sm":
          if (!bound) session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
          else this.onSubmit(session, pdu);
          return;
        case "enquire_link":
          session.send(pdu.response());
          return;
        case "unbind":
          session.send(pdu.response());
          session.close();
          return;
        case "deliver_sm_resp":
          return;
        default:
          if (!pdu.isResponse()) session.send(pdu.response({ command_status: smpp.ESME_RINVCMDID }));
      }
    });
  }

  private onSubmit(session: smpp.Session, pdu: smpp.PDU): void {
    const to = `+${pdu.destination_addr ?? ""}`;
    const { text, udh } = decodedShortMessage(pdu);
    const seen: ObservedSubmit = {
      to,
      sourceAddr: pdu.source_addr ?? "",
      sourceTon: pdu.source_addr_ton ?? 0,
      sourceNpi: pdu.source_addr_npi ?? 0,
      destTon: pdu.dest_addr_ton ?? 0,
      destNpi: pdu.dest_addr_npi ?? 0,
      dataCoding: pdu.data_coding ?? 0,
      esmClass: pdu.esm_class ?? 0,
      registeredDelivery: pdu.registered_delivery ?? 0,
      text,
      concat: udh ? readConcatHeader(udh) : null,
      messageId: null,
    };
    this.observe(seen);
    const suffix = to.slice(-4);
    if (suffix === "0497") {
      session.destroy();
      return;
    }
    if (suffix === "0499") {
      session.send(pdu.response({ command_status: STATUS_INVALID_DESTINATION }));
      return;
    }
    const messageId = (this.nextMessageId++).toString(16).padStart(10, "0");
    seen.messageId = messageId;
    session.send(pdu.response({ message_id: messageId }));
    const delivered = suffix !== "0498";
    if (delivered) this.deliver(seen);
    if (seen.registeredDelivery & 0x01) this.sendReceipt(session, seen, messageId, delivered ? "DELIVRD" : "UNDELIV");
  }

  private deliver(submit: ObservedSubmit): void {
    const { concat, text } = submit;
    const from = submit.sourceTon === 0x01 ? `+${submit.sourceAddr}` : submit.sourceAddr;
    if (!concat || concat.total <= 1) {
      this.store({ channel: "sms", from, to: submit.to, text, receivedAt: this.now() });
      return;
    }
    const key = `${submit.to}|${from}|${concat.reference}|${concat.total}`;
    const pending = this.concat.get(key) ?? { parts: new Array(concat.total), received: 0 };
    if (pending.parts[concat.index - 1] === undefined) pending.received++;
    pending.parts[concat.index - 1] = text;
    this.concat.set(key, pending);
    if (pending.received === concat.total) {
      this.concat.delete(key);
      this.store({ channel: "sms", from, to: submit.to, text: pending.parts.join(""), receivedAt: this.now() });
    }
  }

  private sendReceipt(session: smpp.Session, submit: ObservedSubmit, messageId: string, stat: string): void {
    const stamp = receiptDate(new Date(this.now()));
    const text = `id:${messageId} sub:001 dlvrd:${stat === "DELIVRD" ? "001" : "000"} submit date:${stamp} done date:${stamp} stat:${stat} err:${stat === "DELIVRD" ? "000" : "001"} text:`;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      session.deliver_sm({
        source_addr_ton: submit.destTon,
        source_addr_npi: submit.destNpi,
        source_addr: submit.to.slice(1),
        dest_addr_ton: submit.sourceTon,
        dest_addr_npi: submit.sourceNpi,
        destination_addr: submit.sourceAddr,
        esm_class: 0x04,
        short_message: Buffer.from(text, "latin1"),
        receipted_message_id: messageId,
        message_state: stat === "DELIVRD" ? 2 : 5,
      });
    }, this.options.receiptDelayMs ?? 100);
    this.timers.add(timer);
  }

  private store(message: SandboxMessage): void {
    const list = this.phones.get(message.to) ?? [];
    this.phones.delete(message.to);
    list.push(message);
    if (list.length > (this.options.maxMessagesPerPhone ?? 20)) list.shift();
    this.phones.set(message.to, list);
    if (this.phones.size > (this.options.maxPhones ?? 100_000)) {
      const oldest = this.phones.keys().next().value;
      if (oldest !== undefined) this.phones.delete(oldest);
    }
  }

  private observe(submit: ObservedSubmit): void {
    this.observed.push(submit);
    if (this.observed.length > 10_000) this.observed.shift();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/**
 * The package has already split off the UDH and decoded the text by data_coding (GSM-7 or UCS-2); the UDH comes back
 * as its information elements, which are put back together for the concatenation header parser.
 */
function decodedShortMessage(pdu: smpp.PDU): { text: string; udh: Buffer | null } {
  const message = pdu.short_message;
  if (typeof message === "string") return { text: message, udh: null };
  if (Buffer.isBuffer(message) || !message) return { text: message?.toString("latin1") ?? "", udh: null };
  const text = typeof message.message === "string" ? message.message : message.message.toString("latin1");
  if (!message.udh || message.udh.length === 0) return { text, udh: null };
  const elements = Buffer.concat(message.udh);
  return { text, udh: Buffer.concat([Buffer.from([elements.length]), elements]) };
}

function receiptDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(date.getUTCFullYear() % 100)}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}`;
}
