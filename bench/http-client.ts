/**
 * A minimal keep-alive JSON client on node:http. The load generator sends two requests per verification at
 * thousands per second from one process; `fetch` (undici through its web-streams layer) costs noticeably more CPU
 * per request, and every core the generator burns is one the server under test does not get.
 *
 * @example
 * const client = new JsonClient("http://127.0.0.1:8080", 64);
 * const { status, body } = await client.post("/v1/verifications", key, { phone: "+447400000001" });
 */
import { Agent, type ClientRequest, request } from "node:http";

export interface JsonResponse {
  status: number;
  /** the parsed body, or undefined when it was not JSON */
  body: unknown;
}

/** Any request that takes longer than this is counted as a socket error rather than left hanging. */
const REQUEST_TIMEOUT_MS = 30_000;

export class JsonClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;
  /** requests sent or queued in the agent and not yet answered */
  private readonly pending = new Set<ClientRequest>();

  /** @param maxSockets keep-alive connections to open at most (further requests queue in the agent) */
  constructor(baseUrl: string, maxSockets: number) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: "lifo" });
  }

  /** POSTs `payload` as JSON with a bearer token; rejects only on transport errors. */
  post(path: string, bearer: string, payload: unknown): Promise<JsonResponse> {
    const data = JSON.stringify(payload);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.host,
          port: this.port,
          method: "POST",
          path,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            authorization: `Bearer ${bearer}`,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(data),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: parseJson(text) }));
          res.on("error", reject);
        },
      );
      this.pending.add(req);
      req.on("close", () => this.pending.delete(req));
      req.on("timeout", () => req.destroy(new Error("request timed out")));
      req.on("error", reject);
      req.end(data);
    });
  }

  /**
   * Drops every unanswered request (their promises reject) and returns how many there were: after an overloaded
   * step, requests still queued here would otherwise keep the server busy into the next step.
   */
  abortPending(): number {
    const count = this.pending.size;
    for (const req of this.pending) req.destroy(new Error("aborted"));
    this.pending.clear();
    return count;
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
