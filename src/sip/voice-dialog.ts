/**
 * The dialog of an answered voice call (RFC 3261 §12-15): the call has ACKed the 2xx; this plays the prompt over
 * RTP to the address in the answer's SDP and ends the call with a BYE when the prompt is over or the call reaches
 * its length limit, or stops at once when the far end sends BYE. It settles with what the media did, whether the
 * code was heard in full and what DTMF came back.
 *
 * An answer whose SDP offers no G.711 (or none at all) cannot carry the prompt: the call is hung up at once.
 */
import type { MediaHost, MediaLeg, MediaOutcome } from "../media/media-host.js";
import { negotiate, parseSdp } from "../media/sdp.js";
import type { DialogContext } from "./finished-call.js";
import { newBranch } from "./ids.js";
import type { SipMessage } from "./message.js";
import { NonInviteClientTransaction } from "./non-invite-transaction.js";
import { type CallIdentity, dialogRequests } from "./requests.js";
import type { TimerHandle } from "./timer-wheel.js";
import type { CallMedia, MediaEndReason, VoiceCallMedia } from "./types.js";

/** What a voice dialog needs beyond a call's context. */
export interface VoiceContext {
  /** Where the calls' RTP sockets are and their streams run. */
  readonly host: MediaHost;
  /** Live voice dialogs by Call-ID, so that a BYE from the far end finds its call. */
  readonly dialogs: Map<string, VoiceDialog>;
}

export class VoiceDialog {
  private lengthTimer: TimerHandle | null = null;
  private bye: NonInviteClientTransaction | null = null;
  private ended = false;
  private end: MediaEndReason = "completed";
  private resolve!: (media: CallMedia) => void;
  readonly done: Promise<CallMedia>;

  constructor(
    private readonly ctx: DialogContext & { voice: VoiceContext },
    private readonly id: CallIdentity,
    private readonly answer: SipMessage,
    private readonly leg: MediaLeg,
    media: VoiceCallMedia,
    private readonly authorization: string | null,
  ) {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
    ctx.voice.dialogs.set(id.callId, this);
    const sdp = parseSdp(answer.body);
    const negotiated = sdp ? negotiate(sdp) : null;
    if (!negotiated) {
      this.end = "no_media";
      leg.close();
      this.hangUp();
      this.settle(null);
      return;
    }
    this.lengthTimer = ctx.wheel.schedule(media.maxCallMs, () => this.stop("max_length"));
    leg.play(negotiated, media.prompt).then((report) => {
      if (report.end === "completed") this.hangUp();
      this.settle(report);
    });
  }

  /** The far end hung up (its BYE has been answered 200 by the UAC). */
  remoteHangUp(): void {
    if (this.ended) return;
    this.end = "remote_hangup";
    this.leg.stop();
  }

  /** Ends the call from our side: length limit, the caller's request (`hung_up`), or shutdown. */
  stop(reason: MediaEndReason): void {
    if (this.ended || this.bye) return;
    this.end = reason;
    this.hangUp();
    this.leg.stop();
  }

  private hangUp(): void {
    if (this.bye || this.end === "remote_hangup") return;
    const byeBranch = newBranch();
    const requests = dialogRequests(
      this.ctx,
      this.id,
      this.answer,
      { ack: newBranch(), bye: byeBranch },
      this.authorization,
    );
    const transactions = this.ctx.transactions;
    this.bye = new NonInviteClientTransaction(
      this.ctx,
      Buffer.from(requests.bye),
      () => transactions.delete(byeBranch),
      noop,
    );
    transactions.set(byeBranch, this.bye);
    this.bye.start();
  }

  private settle(report: MediaOutcome | null): void {
    if (this.ended) return;
    this.ended = true;
    this.lengthTimer?.cancel();
    this.ctx.voice.dialogs.delete(this.id.callId);
    this.resolve({
      end: this.end,
      codeHeard: report?.codeHeard ?? false,
      playedMs: report?.playedMs ?? 0,
      dtmf: report?.dtmf ?? "",
      replays: report?.replays ?? 0,
      codec: report?.codec ?? null,
      packetsReceived: report?.packetsReceived ?? 0,
      timing: report?.timing ?? null,
    });
  }
}

function noop(): void {}
