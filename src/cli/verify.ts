/**
 * `flashverify verify <phone>`: one verification against a running server with the sandbox on, printed step by
 * step the way an app would live it: start, the phone rings, the missed call shows up, the caller ID is checked.
 */
import type { Config } from "../config.js";
import { CliError } from "./cli-error.js";

interface Options {
  url?: string;
  key?: string;
  timeout?: string;
}

const POLL_MS = 50;

export async function verify(config: Config, phone: string, options: Options): Promise<number> {
  const base = options.url ?? `http://${config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST}:${config.PORT}`;
  const key = options.key ?? config.FLASHVERIFY_API_KEY;
  if (!key) {
    console.error("an API key is needed: --key KEY or FLASHVERIFY_API_KEY (create one with: flashverify keys create)");
    return 2;
  }
  const deadline = Date.now() + Number(options.timeout ?? "30") * 1000;
  const t0 = performance.now();
  const step = (text: string) => console.log(`${(performance.now() - t0).toFixed(0).padStart(6)} ms  ${text}`);
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).catch((error: unknown) => {
      throw new CliError(`cannot reach ${base}: ${causeOf(error)} (is the server running? --url sets where)`);
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw CliError.fromApi(`${method} ${path}`, response.status, json);
    return json;
  };

  const started = await call("POST", "/v1/verifications", key, { phone });
  const id = String(started.id);
  const token = String(started.client_token);
  const flashcall = started.flashcall as { pattern: string };
  const startedAt = Date.parse((started.verification as { created_at: string }).created_at);
  step(`started ${id}: calling ${String(started.phone)} from ${flashcall.pattern}`);

  let rang = false;
  let handsetEnded = false;
  let from: string | undefined;
  while (Date.now() < deadline) {
    const status = await call("GET", `/v1/verifications/${id}`, token);
    const attempt = (status.attempts as { status: string; reason: string | null }[]).at(-1);
    if (!rang && attempt && attempt.status !== "dialing") {
      rang = true;
      step(`call ${attempt.status}${attempt.reason ? ` (${attempt.reason})` : ""}`);
    }
    if (status.status !== "pending") {
      step(`verification ${String(status.status)}${status.reason ? ` (${String(status.reason)})` : ""}`);
      return 1;
    }
    const handset = await fetch(`${base}/sandbox/phones/${encodeURIComponent(String(started.phone))}`);
    if (handset.status === 404) {
      console.error("this server has no sandbox: check the phone itself and run the check from your app");
      return 1;
    }
    const calls = ((await handset.json()) as { calls: { from: string; received_at: string; result: string }[] }).calls;
    // The handset shows the call while it rings; it becomes a missed call once the server hangs up. A call that
    // ended otherwise (busy, not found) showed no caller ID: the verification's own status tells what follows.
    const latest = calls.find((c) => Date.parse(c.received_at) >= startedAt && c.result !== "ringing");
    if (latest && (latest.result === "missed" || latest.result === "answered")) {
      from = latest.from;
      step(`${latest.result} call seen on the handset from ${from}`);
      break;
    }
    if (latest && !handsetEnded) {
      handsetEnded = true;
      step(`the handset ended the call: ${latest.result}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (!from) {
    step("no missed call arrived in time");
    return 1;
  }
  const checked = await call("POST", `/v1/verifications/${id}/check`, token, { caller_id: from });
  step(`checked caller ID ${from}: ${String(checked.status)}`);
  return checked.status === "verified" ? 0 : 1;
}

/** fetch's own message is "fetch failed"; what went wrong (ECONNREFUSED, a DNS failure) is in its cause. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
