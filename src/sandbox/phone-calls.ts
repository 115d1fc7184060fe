/**
 * The virtual phones' outgoing calls: a sandbox phone dials a number, and the virtual carrier delivers the call to
 * the server's inbound listener as a trunk would, a real SIP INVITE over UDP from the carrier's address, with the
 * phone in P-Asserted-Identity and From. The server rejects it before answer; the carrier acknowledges the final
 * response (ACK) and reports the code. INVITEs are retransmitted on Timer A until a response arrives (RFC 3261
 * §17.1.1.2).
 *
 * @example
 * const caller = await VirtualCaller.create({ address: "127.0.0.2" });
 * await caller.call({ from: "+447400123456", to: "+442079460999", target: { address: "127.0.0.1", port: 5070 } });
 * // { sipCode: 603, reason: "Decline" }
 */
import type { Socket } from "node:dgram";
import { newBranch, newCallId, newTag } from "../sip/ids.js";
import { formatRequest, headerParam, hostPort, parseMessage, type SipMessage } from "../sip/message.js";
import { closeUdpSocket, openUdpSocket } from "../sip/udp-socket.js";

export interface PlacedCall {
  /** the final response's code; null when none came within the deadline */
  sipCode: number | null;
  reason: string | null;
}

interface Pending {
  resolve: (call: PlacedCall) => void;
  ack: (response: SipMessage) => string;
}

const T1_MS = 500;
/** Timer B: an INVITE unanswered this long has failed */
const TIMER_B_MS = 64 * T1_MS;

export class VirtualCaller {
  private readonly pending = new Map<string, Pending>();
  /** ACKs sent, by branch: a retransmitted final response (our ACK was lost) is acknowledged again */
  private readonly acks = new Map<string, string>();

  private constructor(
    private readonly socket: Socket,
    readonly local: { address: string; port: number },
  ) {
    socket.on("message", (data, rinfo) => this.receive(data.toString("utf8"), rinfo.address, rinfo.port));
    socket.on("error", () => undefined);
  }

  /** Binds the carrier's side of the calls on `address` (any free port). */
  static async create(options: { address: string }): Promise<VirtualCaller> {
    const socket = await openUdpSocket({ address: options.address, port: 0 });
    return new VirtualCaller(socket, { address: options.address, port: socket.address().port });
  }

  /** Places one call and resolves with its final response (after acknowledging it). */
  call(p: { from: string; to: string; target: { address: string; port: number } }): Promise<PlacedCall> {
    const branch = newBranch();
    const via = `SIP/2.0/UDP ${hostPort(this.local.address, this.local.port)};branch=${branch};rport`;
    const uri = `sip:${p.to}@${hostPort(p.target.address, p.target.port)};user=phone`;
    const from = `<sip:${p.from}@${this.local.address};user=phone>;tag=${newTag()}`;
    const to = `<${uri}>`;
    const callId = newCallId();
    const invite = formatRequest("INVITE", uri, [
      `Via: ${via}`,
      "Max-Forwards: 70",
      `From: ${from}`,
      `To: ${to}`,
      `P-Asserted-Identity: <sip:${p.from}@${this.local.address};user=phone>`,
      `Call-ID: ${callId}`,
      "CSeq: 1 INVITE",
      `Contact: <sip:carrier@${hostPort(this.local.address, this.local.port)}>`,
    ]);
    const send = (text: string) => this.socket.send(text, p.target.port, p.target.address);
    return new Promise((resolve) => {
      let interval = T1_MS;
      let waited = 0;
      let timer: NodeJS.Timeout;
      const retransmit = () => {
        waited += interval;
        if (waited >= TIMER_B_MS) return done({ sipCode: null, reason: null });
        send(invite);
        interval *= 2;
        timer = setTimeout(retransmit, interval);
      };
      const done = (call: PlacedCall) => {
        clearTimeout(timer);
        this.pending.delete(branch);
        resolve(call);
      };
      this.pending.set(branch, {
        resolve: done,
        // The ACK of a non-2xx final names the INVITE's branch and the response's To tag (RFC 3261 §17.1.1.3).
        ack: (response) =>
          formatRequest("ACK", uri, [
            `Via: ${via}`,
            "Max-Forwards: 70",
            `From: ${from}`,
            `To: ${response.to ?? to}`,
            `Call-ID: ${callId}`,
            "CSeq: 1 ACK",
          ]),
      });
      send(invite);
      timer = setTimeout(retransmit, interval);
    });
  }

  async close(): Promise<void> {
    for (const p of this.pending.values()) p.resolve({ sipCode: null, reason: null });
    this.pending.clear();
    this.acks.clear();
    await closeUdpSocket(this.socket);
  }

  private receive(text: string, address: string, port: number): void {
    const response = parseMessage(text);
    if (!response || response.status < 200 || response.cseqMethod !== "INVITE") return;
    const branch = headerParam(response.via[0] ?? "", "branch") ?? "";
    const pending = this.pending.get(branch);
    const ack = pending?.ack(response) ?? this.acks.get(branch);
    if (ack === undefined) return;
    this.socket.send(ack, port, address);
    if (!pending) return;
    this.acks.set(branch, ack);
    setTimeout(() => this.acks.delete(branch), TIMER_B_MS).unref();
    pending.resolve({ sipCode: response.status, reason: response.reasonPhrase });
  }
}
