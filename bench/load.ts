/**
 * The load process, forked by run.ts: it holds the virtual handsets (the "carrier" the server calls) and the load
 * generator (the backends and apps that start and check verifications). Keeping both out of the server's process
 * makes the server's CPU and RSS figures its own; keeping them together lets a handset hand the caller ID straight
 * to the app that waits for it.
 *
 * Protocol (IPC, see protocol.ts): it binds the handsets and reports `ready` with their SIP port, waits for
 * `configure` (the server's URL), runs each `step` it is sent and answers `step-done`. It exits on `stop` or as
 * soon as the harness goes away, so it can never outlive it.
 */
import { VirtualHandsets } from "../src/sandbox/handsets.js";
import { JsonClient } from "./http-client.js";
import { LoadGenerator } from "./load-generator.js";
import { PhoneNumbers } from "./phone-numbers.js";
import { type FromLoad, isMessage, type ToLoad } from "./protocol.js";

/** The handsets' loopback address, from the harness (argv[2]); each loopback component gets its own. */
const HANDSETS_ADDRESS = process.argv[2] ?? "127.0.0.3";

function send(message: FromLoad): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  if (!process.send) throw new Error("load.ts runs as a child of bench/run.ts (fork with IPC)");
  let generator: LoadGenerator | null = null;
  let clients: JsonClient[] = [];
  const handsets = await VirtualHandsets.create({
    address: HANDSETS_ADDRESS,
    port: 0,
    maxPhones: 200_000,
    maxCallsPerPhone: 2,
    onIncomingCall: (call) => generator?.onIncomingCall(call.to, call.from),
  });

  const shutdown = async (code: number) => {
    for (const client of clients) client.close();
    await handsets.close();
    process.exit(code);
  };
  process.on("disconnect", () => void shutdown(0));

  let busy = Promise.resolve();
  process.on("message", (message: unknown) => {
    if (!isMessage<ToLoad>(message, ["configure", "step", "stop"])) return;
    switch (message.type) {
      case "configure": {
        const backends = message.baseUrls.map((url) => new JsonClient(url, message.maxSockets));
        const apps = message.baseUrls.map((url) => new JsonClient(url, message.maxSockets));
        clients = [...backends, ...apps];
        generator = new LoadGenerator(backends, apps, message.apiKey, new PhoneNumbers());
        break;
      }
      case "step": {
        const step = message.step;
        const runner = generator;
        if (!runner) return send({ type: "fatal", message: "step before configure" });
        // Steps run one after another even if the harness sends the next one early.
        busy = busy.then(async () => {
          const result = await runner.runStep(step, (p) => send({ type: "progress", label: step.label, ...p }));
          send({ type: "step-done", result });
        });
        break;
      }
      case "stop":
        void shutdown(0);
    }
  });
  send({ type: "ready", sip: handsets.local });
}

main().catch((error: unknown) => {
  send({ type: "fatal", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
