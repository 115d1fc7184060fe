/**
 * The inbound listener (listener.ts) on a thread of its own: its sockets, the parsing of every request, the
 * transactions, the responses and their Timer G retransmissions run there, so they neither wait for nor cost the
 * calling thread, which only decides each INVITE. Calls cross in batches (one message per turn of either thread's
 * event loop), as the few fields the decision reads rather than the parsed message.
 *
 * @example
 * const listener = await startInboundListenerThread({ address: "0.0.0.0", port: 5060, transports: ["udp", "tcp"],
 *   trusted: trunks, onInvite: async (invite) => ({ status: 603, phrase: "Decline" }) });
 */
import type { BlockList } from "node:net";
import type { Worker } from "node:worker_threads";
import { type BatchedPoster, batchedPoster } from "../batched-poster.js";
import type { SipMessage } from "../message.js";
import { spawnModuleWorker } from "../spawn-module-worker.js";
import type { InboundAnswer, InboundListenerOptions, InboundTransport } from "./listener.js";

/** What deciding an INVITE reads of it. */
export type InboundRequest = Pick<SipMessage, "uri" | "to" | "from" | "assertedIdentities" | "identity">;

export interface InboundCallRequest {
  transport: InboundTransport;
  source: { address: string; port: number };
  message: InboundRequest;
}

export interface InboundListenerThreadOptions extends Omit<InboundListenerOptions, "trusted" | "onInvite" | "onError"> {
  /** the addresses requests may come from (a list, as the thread cannot call back to ask) */
  trusted: BlockList;
  /** the INVITE's final response (4xx-6xx); a rejection answers it 500 */
  onInvite: (invite: InboundCallRequest) => Promise<InboundAnswer>;
  onError?: (error: unknown) => void;
}

/** Messages from the listener's thread, posted in batches. */
export type FromListener =
  | { t: "ready"; local: { address: string; port: number }; tlsPort: number | null }
  | { t: "failed"; message: string }
  | { t: "invite"; h: number; call: InboundCallRequest }
  | { t: "untrusted"; source: { address: string; port: number } }
  | { t: "error"; message: string }
  | { t: "closed" };

/** Messages to it, posted in batches. */
export type ToListener = { t: "answer"; h: number; answer: InboundAnswer } | { t: "close" };

export interface ListenerStartData {
  options: Omit<InboundListenerThreadOptions, "onInvite" | "onUntrusted" | "onError">;
}

export class InboundListenerThread {
  private closing: Promise<void> | null = null;
  private readonly poster: BatchedPoster<ToListener>;

  private constructor(
    private readonly worker: Worker,
    readonly local: { address: string; port: number },
    readonly tlsPort: number | null,
  ) {
    this.poster = batchedPoster<ToListener>(worker);
  }

  /** Starts the thread and its sockets; resolves once they listen, rejects when they cannot. */
  static start(options: InboundListenerThreadOptions): Promise<InboundListenerThread> {
    const { onInvite, onUntrusted, onError, ...rest } = options;
    const worker = spawnModuleWorker(import.meta.url, "./listener-worker", {
      options: rest,
    } satisfies ListenerStartData);
    return new Promise((resolve, reject) => {
      let listener: InboundListenerThread | null = null;
      worker.on("message", (batch: FromListener[]) => {
        for (const m of batch) {
          if (m.t === "invite") {
            const h = m.h;
            onInvite(m.call).then(
              (answer) => listener?.post({ t: "answer", h, answer }),
              (error: unknown) => {
                onError?.(error);
                listener?.post({ t: "answer", h, answer: { status: 500, phrase: "Server Internal Error" } });
              },
            );
          } else if (m.t === "untrusted") onUntrusted?.(m.source);
          else if (m.t === "error") onError?.(new Error(m.message));
          else if (m.t === "ready") {
            listener = new InboundListenerThread(worker, m.local, m.tlsPort);
            resolve(listener);
          } else if (m.t === "failed") reject(new Error(m.message));
        }
      });
      worker.on("error", (error) => {
        if (listener) onError?.(error);
        else reject(error);
      });
      worker.on("exit", (code) => {
        if (!listener) reject(new Error(`the inbound SIP thread exited (${code}) before it listened`));
        else if (!listener.closing) onError?.(new Error(`the inbound SIP thread exited (${code})`));
      });
    });
  }

  /** Closes the sockets and ends the thread. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.worker.once("exit", () => resolve());
      this.post({ t: "close" });
    });
    return this.closing;
  }

  private post(message: ToListener): void {
    this.poster.post(message);
  }
}
