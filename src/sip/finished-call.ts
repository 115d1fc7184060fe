/**
 * What outlives a call's record: the ACKs for its finals and the BYE for each dialog a 2xx created. A settled call
 * lingers as a FinishedCall for Timer D, re-ACKing retransmitted finals and hanging up late 2xx.
 */
import { newBranch } from "./ids.js";
import { headerParam, type SipMessage } from "./message.js";
import { NonInviteClientTransaction } from "./non-invite-transaction.js";
import { type CallIdentity, dialogRequests, nonSuccessAck, type RequestContext } from "./requests.js";
import { declineOffer, isSdpOffer, viaHost } from "./sdp-decline.js";
import type { TransactionContext } from "./transaction-context.js";

/** What the 2xx handling needs from the UAC. */
export interface DialogContext extends TransactionContext, RequestContext {
  /** Non-INVITE transactions outliving their call (BYEs), by branch; the UAC routes their responses. */
  readonly transactions: Map<string, NonInviteClientTransaction>;
}

/**
 * A settled call during Timer D: it re-ACKs retransmitted (or late) non-2xx finals and ACKs each 2xx, hanging up
 * every dialog once. Kept small on purpose: thousands of these live at once.
 */
export class FinishedCall {
  constructor(
    private readonly ctx: DialogContext,
    private readonly id: CallIdentity,
    private dialogs: Map<string, Buffer> | null,
    private readonly authorization: string | null,
    /** Our INVITE carried an SDP offer (a voice call): a 2xx body is then the answer, not an offer. */
    private readonly offered: boolean,
  ) {}

  onResponse(msg: SipMessage): void {
    if (msg.cseqMethod !== "INVITE" || msg.status < 200) return;
    if (msg.status < 300) {
      this.dialogs = acknowledgeSuccess(this.ctx, this.id, this.dialogs, msg, this.authorization, {
        offered: this.offered,
      });
    } else this.ctx.send(Buffer.from(nonSuccessAck(this.ctx, this.id, msg)), noop);
  }
}

/**
 * A 2xx: the phone answered (perhaps racing our CANCEL). The first 2xx of each dialog gets an ACK and a BYE
 * (unless `hangUp` is false: a voice call's own dialog); its retransmissions get the same ACK again (our ACK was
 * lost). When our INVITE offered no media (`offered` false), a body in the 2xx is the offer, and the ACK answers it
 * with every stream declined (§13.2.2.4).
 */
export function acknowledgeSuccess(
  ctx: DialogContext,
  id: CallIdentity,
  dialogs: Map<string, Buffer> | null,
  msg: SipMessage,
  authorization: string | null,
  { hangUp = true, offered = false }: { hangUp?: boolean; offered?: boolean } = {},
): Map<string, Buffer> {
  const known = dialogs ?? new Map<string, Buffer>();
  const tag = headerParam(msg.to ?? "", "tag") ?? "";
  const previous = known.get(tag);
  if (previous) {
    ctx.send(previous, noop);
    return known;
  }
  const byeBranch = newBranch();
  // A flash call wants no media: an offer in the 2xx is answered in the ACK with every stream declined, then the BYE.
  const declines = !offered && isSdpOffer(msg.contentType, msg.body);
  const answer = declines ? declineOffer(msg.body, viaHost(ctx.viaPrefix), id.cseq) : null;
  const requests = dialogRequests(ctx, id, msg, { ack: newBranch(), bye: byeBranch }, authorization, answer);
  const ack = Buffer.from(requests.ack);
  known.set(tag, ack);
  ctx.send(ack, noop);
  // The first dialog of an answered voice call stays up for its prompt (VoiceDialog hangs it up); every other
  // answer is hung up at once.
  if (!hangUp && known.size === 1) return known;
  const transactions = ctx.transactions;
  const bye = new NonInviteClientTransaction(
    ctx,
    Buffer.from(requests.bye),
    () => transactions.delete(byeBranch),
    noop,
  );
  transactions.set(byeBranch, bye);
  bye.start();
  return known;
}

function noop(): void {}
