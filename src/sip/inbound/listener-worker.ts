/**
 * The inbound listener's thread: one InboundListener whose INVITEs are decided by the thread that started it
 * (listener-thread.ts). Started only by InboundListenerThread.start(); it exits once closed.
 */
import { isIP } from "node:net";
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { batchedPoster } from "../batched-poster.js";
import { type InboundAnswer, InboundListener } from "./listener.js";
import type { FromListener, ListenerStartData, ToListener } from "./listener-thread.js";

if (!parentPort) throw new Error("listener-worker must run in a worker thread (use InboundListenerThread.start)");
const port: MessagePort = parentPort;

const { post, flush } = batchedPoster<FromListener>(port);

/**
 * Whether an address is a trunk's, remembered per address: a BlockList check builds a SocketAddress each time, a
 * cost every packet paid. The trunks are a few addresses; a flood from many (forged) ones empties the memory
 * rather than growing it.
 */
function trustedCheck(list: ListenerStartData["options"]["trusted"]): (address: string) => boolean {
  const known = new Map<string, boolean>();
  return (address) => {
    const seen = known.get(address);
    if (seen !== undefined) return seen;
    if (known.size >= 1024) known.clear();
    const answer = list.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
    known.set(address, answer);
    return answer;
  };
}

async function main(): Promise<void> {
  const { options } = workerData as ListenerStartData;
  const waiting = new Map<number, (answer: InboundAnswer) => void>();
  let next = 0;
  let listener: InboundListener;
  try {
    listener = await InboundListener.start({
      ...options,
      trusted: trustedCheck(options.trusted),
      onInvite: ({ transport, source, message }) =>
        new Promise<InboundAnswer>((resolve) => {
          const h = next++;
          waiting.set(h, resolve);
          const { uri, to, from, assertedIdentities, identity } = message;
          post({
            t: "invite",
            h,
            call: { transport, source, message: { uri, to, from, assertedIdentities, identity } },
          });
        }),
      onUntrusted: (source) => post({ t: "untrusted", source }),
      onError: (error) => post({ t: "error", message: error instanceof Error ? error.message : String(error) }),
    });
  } catch (error) {
    port.postMessage([{ t: "failed", message: (error as Error).message }] satisfies FromListener[]);
    port.close();
    return;
  }

  const onMessage = (batch: ToListener[]): void => {
    for (const m of batch) {
      if (m.t === "answer") {
        waiting.get(m.h)?.(m.answer);
        waiting.delete(m.h);
      } else {
        port.off("message", onMessage);
        void listener.close().then(() => {
          post({ t: "closed" });
          flush();
          port.close();
        });
        return;
      }
    }
  };
  port.on("message", onMessage);
  port.postMessage([{ t: "ready", local: listener.local, tlsPort: listener.tlsPort }] satisfies FromListener[]);
}

void main();
