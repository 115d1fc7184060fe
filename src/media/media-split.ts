/**
 * A MediaHost that reads each call's RTP on the calling thread and sends it from media threads (MediaThreads) whose
 * event loops never read: a burst of the far ends' packets to read cannot delay a send.
 *
 * Both sockets of a call are bound to the same port (SO_REUSEADDR), so we send from the port our SDP offered
 * (symmetric RTP, which NAT-latching SBCs need). The reading socket is connected to the answer's address and the
 * sending one is not: Linux gives a datagram to the bound socket that matches it best, and a connected socket's
 * match on the remote address and port beats an unconnected one's, so every packet of the far end reaches the
 * reader. (Two connected sockets would tie, and which one wins a tie differs between kernel versions.) The sending
 * socket therefore names the address on every send.
 */
import type { Socket } from "node:dgram";
import { closeUdpSocket } from "../sip/udp-socket.js";
import { DtmfReader } from "./dtmf-reader.js";
import type { MediaHost, MediaLeg, MediaOutcome } from "./media-host.js";
import type { MediaThreads } from "./media-threads.js";
import { openSharedRtpPort, type PortRange } from "./port-range.js";
import type { VoicePrompt } from "./prompt.js";
import type { NegotiatedAudio } from "./sdp.js";

export class SplitMediaHost implements MediaHost {
  private readonly legs = new Set<SplitLeg>();

  constructor(
    private readonly address: string,
    private readonly ports: PortRange,
    private readonly senders: MediaThreads,
  ) {}

  async open(): Promise<MediaLeg> {
    const { rtp, rtcp } = await openSharedRtpPort(this.address, this.ports);
    rtcp.on("error", ignore);
    let sender: MediaLeg;
    try {
      sender = await this.senders.open(rtp.address().port);
    } catch (error) {
      void closeUdpSocket(rtp);
      void closeUdpSocket(rtcp);
      throw error;
    }
    const leg = new SplitLeg(rtp, rtcp, sender, this.legs);
    this.legs.add(leg);
    return leg;
  }

  async close(): Promise<void> {
    await this.senders.close();
    for (const leg of [...this.legs]) leg.close();
  }
}

class SplitLeg implements MediaLeg {
  readonly port: number;

  constructor(
    private readonly socket: Socket,
    /** Holds the port's claim (see openSharedRtpPort). */
    private readonly rtcp: Socket,
    private readonly sender: MediaLeg,
    private readonly legs: Set<SplitLeg>,
  ) {
    this.port = socket.address().port;
    socket.on("error", ignore);
  }

  play(remote: NegotiatedAudio, prompt: VoicePrompt): Promise<MediaOutcome> {
    const reader = new DtmfReader(this.socket, remote.eventPayloadType, (key) => this.sender.key(key));
    this.socket.connect(remote.port, remote.address);
    return this.sender.play(remote, prompt, { read: false, connect: false }).then((outcome) => {
      this.close();
      return { ...outcome, packetsReceived: reader.received };
    });
  }

  stop(): void {
    this.sender.stop();
  }

  key(key: string): void {
    this.sender.key(key);
  }

  close(): void {
    if (!this.legs.delete(this)) return;
    void closeUdpSocket(this.socket);
    void closeUdpSocket(this.rtcp);
    this.sender.close();
  }
}

function ignore(): void {}
