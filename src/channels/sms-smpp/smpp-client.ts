/**
 * One SMPP 3.4 bind (transceiver) to an SMSC: binds, keeps the link alive with enquire_link, reconnects with
 * backoff, and submits short messages through a window (at most `window` submit_sm awaiting their response) at no
 * more than `maxPerSecond`. Delivery receipts arriving on the same bind are parsed and handed to `onReceipt`.
 *
 * The one rule that matters for OTPs: a submit_sm that was written to the link and not answered is never sent
 * again. If the link drops (or the response times out) the SMSC may or may not have taken it, and a second copy
 * would be a second message with the same code on the user's phone and the operator's bill. Such a submit ends as
 * `unknown`; only submits never written (`not_sent`) or explicitly refused for load (throttled, queue full) are
 * retried, because those provably did not go out.
 *
 * @example
 * const client = SmppClient.start({ host: "127.0.0.1", port: 2775, systemId: "fv", password: "secret" });
 * const outcome = await client.submit({ source, destination, dataCoding: 0, esmClass: 0, payload, registeredDelivery: true });
 */
import smpp from "smpp";
import type { SmppAddress } from "./addresses.js";
import { type DeliveryReceipt, parseDeliveryReceipt } from "./delivery-receipt.js";

export interface SmppClientOptions {
  host: string;
  port: number;
  tls?: boolean;
  systemId: string;
  password: string;
  systemType?: string;
  /** submit_sm awaiting a response at once. Default 10. */
  window?: number;
  /** submit_sm per second on this bind (the SMSC's contracted throughput). Default 50. */
  maxPerSecond?: number;
  /** Wait for a response (bind, submit, enquire_link). Default 10 s. */
  responseTimeoutMs?: number;
  /** A submit not written by then ends `not_sent` (the link is down or the window is full). Default 30 s. */
  queueTimeoutMs?: number;
  /** Default 30 s. */
  enquireLinkMs?: number;
  /** Reconnect backoff, doubling from min to max with jitter. Defaults 250 ms and 30 s. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  onReceipt?: (receipt: DeliveryReceipt) => void;
  /** Link changes, for logs and health: bound, or down with why. */
  onLinkChange?: (state: LinkState, detail: string) => void;
}

export type LinkState = "connecting" | "bound" | "down" | "closed";

export interface SubmitPart {
  source: SmppAddress;
  destination: SmppAddress;
  dataCoding: number;
  esmClass: number;
  /** the short_message octets, UDH included */
  payload: Buffer;
  registeredDelivery: boolean;
}

export type SubmitOutcome =
  | { status: "accepted"; messageId: string }
  /** the SMSC refused this message (command_status): nothing was sent */
  | { status: "rejected"; commandStatus: number }
  /** written to the link and never answered: it may have gone out, so it is not sent again */
  | { status: "unknown"; detail: string }
  /** never written (link down past the queue deadline, or the client closed): safe to send elsewhere */
  | { status: "not_sent"; detail: string };

interface Job {
  part: SubmitPart;
  resolve: (outcome: SubmitOutcome) => void;
  queuedUntil: number;
  timer: NodeJS.Timeout | null;
  done: boolean;
}

/** Statuses that mean "not now": the message was not accepted, so sending it again later cannot duplicate it. */
const RETRYABLE = new Set([smpp.ESME_RTHROTTLED, smpp.ESME_RMSGQFUL]);
const RETRY_AFTER_THROTTLE_MS = 1000;

export class SmppClient {
  private session: smpp.Session | null = null;
  private linkState: LinkState = "connecting";
  /** why the link last went down, for the reason of submits that could not be sent */
  private lastDownDetail = "not bound yet";
  private readonly queue: Job[] = [];
  private readonly inFlight = new Set<Job>();
  private nextSendAt = 0;
  private pumpTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private enquireTimer: NodeJS.Timeout | null = null;
  private queueSweep: NodeJS.Timeout;
  private backoffMs: number;
  private readonly window: number;
  private readonly intervalMs: number;
  private readonly responseTimeoutMs: number;

  private constructor(private readonly options: SmppClientOptions) {
    this.window = options.window ?? 10;
    this.intervalMs = 1000 / (options.maxPerSecond ?? 50);
    this.responseTimeoutMs = options.responseTimeoutMs ?? 10_000;
    this.backoffMs = options.reconnectMinMs ?? 250;
    // Expires queued submits whose deadline passed while the link was down.
    this.queueSweep = setInterval(() => this.expireQueued(), 500);
    this.queueSweep.unref();
  }

  /** Starts connecting and binding in the background; submits queue until the bind succeeds. */
  static start(options: SmppClientOptions): SmppClient {
    const client = new SmppClient(options);
    client.connect();
    return client;
  }

  get state(): LinkState {
    return this.linkState;
  }

  /** Resolves once; never rejects. */
  submit(part: SubmitPart): Promise<SubmitOutcome> {
    if (this.linkState === "closed") return Promise.resolve({ status: "not_sent", detail: "client closed" });
    return new Promise((resolve) => {
      this.queue.push({
        part,
        resolve,
        queuedUntil: Date.now() + (this.options.queueTimeoutMs ?? 30_000),
        timer: null,
        done: false,
      });
      this.pump();
    });
  }

  /** Unbinds (briefly waiting for unbind_resp) and closes; queued submits end `not_sent`, unanswered ones `unknown`. */
  async close(): Promise<void> {
    if (this.linkState === "closed") return;
    const session = this.session;
    const wasBound = this.linkState === "bound";
    this.linkState = "closed";
    for (const timer of [this.pumpTimer, this.reconnectTimer, this.enquireTimer]) if (timer) clearTimeout(timer);
    clearInterval(this.queueSweep);
    for (const job of this.queue.splice(0)) this.finish(job, { status: "not_sent", detail: "client closed" });
    for (const job of [...this.inFlight]) this.finish(job, { status: "unknown", detail: "client closed" });
    if (!session) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => session.destroy(), 1000);
      session.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      if (!wasBound || !session.unbind(() => session.close())) session.destroy();
    });
    this.options.onLinkChange?.("closed", "closed by us");
  }

  private connect(): void {
    if (this.linkState === "closed") return;
    this.linkState = "connecting";
    const session = smpp.connect({ host: this.options.host, port: this.options.port, tls: this.options.tls ?? false });
    this.session = session;
    let downReported = false;
    const down = (detail: string) => {
      if (downReported || this.session !== session) return;
      downReported = true;
      session.destroy();
      this.linkDown(detail);
    };
    session.on("error", (error: Error) => down(`link error: ${error.message}`));
    session.on("close", () => down("link closed"));
    // Over TLS the bind waits for the handshake, not the TCP connect.
    session.on(this.options.tls ? "secureConnect" : "connect", () => this.bind(session, down));
    session.on("pdu", (pdu: smpp.PDU) => this.onPdu(session, pdu, down));
  }

  private bind(session: smpp.Session, down: (detail: string) => void): void {
    const timer = setTimeout(() => down("bind_transceiver timed out"), this.responseTimeoutMs);
    session.bind_transceiver(
      {
        system_id: this.options.systemId,
        password: this.options.password,
        system_type: this.options.systemType ?? "",
        interface_version: 0x34,
      },
      (pdu) => {
        clearTimeout(timer);
        if (pdu.command_status !== smpp.ESME_ROK) {
          down(`bind refused (command_status 0x${pdu.command_status.toString(16)})`);
          return;
        }
        this.linkState = "bound";
        this.backoffMs = this.options.reconnectMinMs ?? 250;
        this.options.onLinkChange?.("bound", `bound to ${this.options.host}:${this.options.port}`);
        this.scheduleEnquireLink(session, down);
        this.pump();
      },
    );
  }

  private onPdu(session: smpp.Session, pdu: smpp.PDU, down: (detail: string) => void): void {
    switch (pdu.command) {
      case "deliver_sm": {
        session.send(pdu.response());
        const receipt = parseDeliveryReceipt(pdu);
        if (receipt) this.options.onReceipt?.(receipt);
        return;
      }
      case "enquire_link":
        session.send(pdu.response());
        return;
      case "unbind":
        session.send(pdu.response());
        down("the SMSC unbound");
        return;
      case "unknown":
        session.send(pdu.response());
        return;
      default:
        return;
    }
  }

  private scheduleEnquireLink(session: smpp.Session, down: (detail: string) => void): void {
    this.enquireTimer = setTimeout(() => {
      if (this.session !== session || this.linkState !== "bound") return;
      const timer = setTimeout(() => down("enquire_link unanswered"), this.responseTimeoutMs);
      session.enquire_link(() => {
        clearTimeout(timer);
        this.scheduleEnquireLink(session, down);
      });
    }, this.options.enquireLinkMs ?? 30_000);
    this.enquireTimer.unref();
  }

  private linkDown(detail: string): void {
    if (this.enquireTimer) clearTimeout(this.enquireTimer);
    this.session = null;
    this.lastDownDetail = detail;
    // The heart of the no-duplicate rule: what was written and not answered is not sent again.
    for (const job of [...this.inFlight])
      this.finish(job, { status: "unknown", detail: `${detail} before the response` });
    if (this.linkState === "closed") return;
    this.linkState = "down";
    this.options.onLinkChange?.("down", detail);
    const max = this.options.reconnectMaxMs ?? 30_000;
    const delay = Math.min(this.backoffMs, max) * (0.5 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, max);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private pump(): void {
    if (this.pumpTimer || this.linkState !== "bound") return;
    const session = this.session;
    while (session && this.queue.length > 0 && this.inFlight.size < this.window) {
      const wait = this.nextSendAt - Date.now();
      if (wait > 0) {
        this.pumpTimer = setTimeout(() => {
          this.pumpTimer = null;
          this.pump();
        }, wait);
        return;
      }
      const job = this.queue.shift() as Job;
      if (!this.write(session, job)) {
        this.queue.unshift(job);
        return;
      }
      this.nextSendAt = Math.max(this.nextSendAt, Date.now()) + this.intervalMs;
    }
  }

  private write(session: smpp.Session, job: Job): boolean {
    const { part } = job;
    const written = session.submit_sm(
      {
        source_addr_ton: part.source.ton,
        source_addr_npi: part.source.npi,
        source_addr: part.source.addr,
        dest_addr_ton: part.destination.ton,
        dest_addr_npi: part.destination.npi,
        destination_addr: part.destination.addr,
        esm_class: part.esmClass,
        data_coding: part.dataCoding,
        registered_delivery: part.registeredDelivery ? 0x01 : 0x00,
        short_message: part.payload,
      },
      (pdu) => this.onSubmitResponse(job, pdu),
    );
    if (!written) return false;
    this.inFlight.add(job);
    job.timer = setTimeout(
      () => this.finish(job, { status: "unknown", detail: "submit_sm_resp timed out" }),
      this.responseTimeoutMs,
    );
    return true;
  }

  private onSubmitResponse(job: Job, pdu: smpp.PDU): void {
    if (job.done) return;
    if (pdu.command_status === smpp.ESME_ROK && pdu.message_id) {
      this.finish(job, { status: "accepted", messageId: pdu.message_id });
    } else if (RETRYABLE.has(pdu.command_status)) {
      // Refused for load: provably not sent, so it goes back to the front of the queue after a pause.
      if (job.timer) clearTimeout(job.timer);
      this.inFlight.delete(job);
      this.queue.unshift(job);
      this.nextSendAt = Date.now() + RETRY_AFTER_THROTTLE_MS;
      this.pump();
    } else {
      this.finish(job, { status: "rejected", commandStatus: pdu.command_status });
    }
  }

  private finish(job: Job, outcome: SubmitOutcome): void {
    if (job.done) return;
    job.done = true;
    if (job.timer) clearTimeout(job.timer);
    this.inFlight.delete(job);
    job.resolve(outcome);
    this.pump();
  }

  private expireQueued(): void {
    const now = Date.now();
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const job = this.queue[i] as Job;
      if (job.queuedUntil <= now) {
        this.queue.splice(i, 1);
        this.finish(job, {
          status: "not_sent",
          detail: `no bound link within the queue deadline: ${this.lastDownDetail}`,
        });
      }
    }
  }
}
