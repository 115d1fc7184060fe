/**
 * Where a UAC's voice calls get their RTP: a socket on the port range per call (its port goes into the SDP offer),
 * then, once the call is answered, a stream that plays the prompt from that socket and reads DTMF on it.
 *
 * `LocalMediaHost` does it on the calling thread, with one MediaClock for all its calls; `SplitMediaHost`
 * (media-split.ts) reads on the calling thread and sends from media threads (media-threads.ts), each running a
 * LocalMediaHost.
 */
import type { Socket } from "node:dgram";
import { closeUdpSocket } from "../sip/udp-socket.js";
import { MediaClock } from "./media-clock.js";
import { openRtpSocket, openSharedRtpSocket, type PortRange } from "./port-range.js";
import type { VoicePrompt } from "./prompt.js";
import { type MediaEnd, type MediaReport, RtpSession, type RtpSessionOptions } from "./rtp-session.js";
import type { NegotiatedAudio } from "./sdp.js";

export type MediaOutcome = MediaReport & { end: MediaEnd };

/** One call's RTP socket. */
export interface MediaLeg {
  /** The bound port (what the SDP offer names). */
  readonly port: number;
  /**
   * Plays `prompt` to the answer's address from this leg's port (symmetric RTP) and reads DTMF there; resolves
   * once, when the prompt has run its course or stop() was called. The socket closes then. Called at most once.
   */
  play(remote: NegotiatedAudio, prompt: VoicePrompt, options?: RtpSessionOptions): Promise<MediaOutcome>;
  /** Ends the play early (its promise resolves `stopped`). */
  stop(): void;
  /** A DTMF key read elsewhere (a play with `read: false`). */
  key(key: string): void;
  /** Closes the socket of a leg that will not play (the call was not answered). */
  close(): void;
}

export interface MediaHost {
  /** Binds a free even port of the range, or a second socket on `sharedPort`. Rejects when none is free. */
  open(sharedPort?: number): Promise<MediaLeg>;
  /** Stops every play (each resolves `stopped`) and closes every socket. */
  close(): Promise<void>;
}

export class LocalMediaHost implements MediaHost {
  private readonly clock = new MediaClock();
  private readonly legs = new Set<LocalLeg>();

  constructor(
    private readonly address: string,
    private readonly ports: PortRange,
  ) {}

  async open(sharedPort?: number): Promise<MediaLeg> {
    const socket =
      sharedPort === undefined
        ? await openRtpSocket(this.address, this.ports)
        : await openSharedRtpSocket(this.address, sharedPort);
    const leg = new LocalLeg(socket, this.clock, this.legs);
    this.legs.add(leg);
    return leg;
  }

  async close(): Promise<void> {
    for (const leg of [...this.legs]) leg.stop();
    for (const leg of [...this.legs]) leg.close();
    this.clock.stop();
  }
}

class LocalLeg implements MediaLeg {
  readonly port: number;
  private session: RtpSession | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly clock: MediaClock,
    private readonly legs: Set<LocalLeg>,
  ) {
    this.port = socket.address().port;
  }

  play(remote: NegotiatedAudio, prompt: VoicePrompt, options: RtpSessionOptions = {}): Promise<MediaOutcome> {
    const session = new RtpSession(this.socket, remote, prompt, this.clock, options);
    this.session = session;
    session.start();
    return session.done.then((outcome) => {
      this.close();
      return outcome;
    });
  }

  stop(): void {
    this.session?.stop();
  }

  key(key: string): void {
    this.session?.key(key);
  }

  close(): void {
    if (!this.legs.delete(this)) return;
    void closeUdpSocket(this.socket);
  }
}
