/**
 * A minimal keep-alive HTTP/1.1 JSON client over plain sockets, for the load generator: it sends two requests per
 * verification at thousands per second from one process that shares the machine with the server under test, so
 * every microsecond it spends is taken from the server. node:http's client (a ClientRequest, an IncomingMessage,
 * stream events and header objects per request) cost the load process about as much CPU per verification as
 * the server's SIP thread; this one writes each request as one string and reads the answer by Content-Length.
 * It speaks only what our server answers with: a status line, headers with Content-Length, a JSON body. Anything
 * else (chunked bodies, a malformed head) fails that request as a transport error, which the generator counts.
 *
 * @example
 * const client = new JsonClient("http://127.0.0.1:8080", 64);
 * const { status, body } = await client.post("/v1/verifications", key, { phone: "+447400000001" });
 */
import { connect, type Socket } from "node:net";

export interface JsonResponse {
  status: number;
  /** the parsed body, or undefined when it was not JSON */
  body: unknown;
}

/** Any request that takes longer than this is counted as a socket error rather than left hanging. */
const REQUEST_TIMEOUT_MS = 30_000;
const HEAD_END = Buffer.from("\r\n\r\n");

interface Request {
  head: string;
  body: string;
  resolve(response: JsonResponse): void;
  reject(error: Error): void;
}

/** One keep-alive connection: at most one request on it at a time. */
class Connection {
  readonly socket: Socket;
  request: Request | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    host: string,
    port: number,
    private readonly onIdle: (c: Connection) => void,
    private readonly onGone: (c: Connection) => void,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on("data", (chunk: Buffer) => this.receive(chunk));
    this.socket.on("error", (error) => this.fail(error));
    this.socket.on("close", () => this.fail(new Error("connection closed")));
  }

  send(request: Request): void {
    this.request = request;
    this.timer = setTimeout(() => this.socket.destroy(new Error("request timed out")), REQUEST_TIMEOUT_MS);
    this.socket.write(request.head + request.body);
  }

  destroy(error: Error): void {
    this.socket.destroy();
    this.fail(error);
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.buffered.toString("latin1", 0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length || !(status >= 100)) {
      this.destroy(new Error(`unreadable answer: ${head.split("\r\n")[0]}`));
      return;
    }
    const bodyStart = headEnd + HEAD_END.length;
    const bodyEnd = bodyStart + Number(length[1]);
    if (this.buffered.length < bodyEnd) return;
    const text = this.buffered.toString("utf8", bodyStart, bodyEnd);
    this.buffered = this.buffered.subarray(bodyEnd);
    const request = this.request;
    this.request = null;
    if (this.timer) clearTimeout(this.timer);
    request?.resolve({ status, body: parseJson(text) });
    if (/\r\nconnection:\s*close/i.test(head)) this.destroy(new Error("closed by the server"));
    else this.onIdle(this);
  }

  private fail(error: Error): void {
    if (this.timer) clearTimeout(this.timer);
    const request = this.request;
    this.request = null;
    request?.reject(error);
    this.onGone(this);
  }
}

export class JsonClient {
  private readonly host: string;
  private readonly port: number;
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  /** requests waiting for a connection */
  private queue: Request[] = [];

  /** @param maxSockets keep-alive connections to open at most (further requests queue here) */
  constructor(
    baseUrl: string,
    private readonly maxSockets: number,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
  }

  /** POSTs `payload` as JSON with a bearer token; rejects only on transport errors. */
  post(path: string, bearer: string, payload: unknown): Promise<JsonResponse> {
    const body = JSON.stringify(payload);
    const head =
      `POST ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\nauthorization: Bearer ${bearer}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
    return new Promise((resolve, reject) => {
      const request = { head, body, resolve, reject };
      const connection = this.idle.pop() ?? this.connect();
      if (connection) connection.send(request);
      else this.queue.push(request);
    });
  }

  /**
   * Drops every unanswered request (their promises reject) and returns how many there were: after an overloaded
   * step, requests still queued here would otherwise keep the server busy into the next step.
   */
  abortPending(): number {
    const queued = this.queue;
    this.queue = [];
    for (const request of queued) request.reject(new Error("aborted"));
    let inFlight = 0;
    for (const connection of [...this.open]) {
      if (!connection.request) continue;
      inFlight++;
      connection.destroy(new Error("aborted"));
    }
    return queued.length + inFlight;
  }

  close(): void {
    this.queue = [];
    for (const connection of [...this.open]) connection.destroy(new Error("client closed"));
  }

  private connect(): Connection | null {
    if (this.open.size >= this.maxSockets) return null;
    const connection = new Connection(
      this.host,
      this.port,
      (c) => this.release(c),
      (c) => this.forget(c),
    );
    this.open.add(connection);
    return connection;
  }

  /** A connection finished its request: give it the next queued one, or keep it for later. */
  private release(connection: Connection): void {
    const next = this.queue.shift();
    if (next) connection.send(next);
    else this.idle.push(connection);
  }

  private forget(connection: Connection): void {
    if (!this.open.delete(connection)) return;
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    // A replacement takes over the queue, if any is waiting.
    const next = this.queue.shift();
    if (next) {
      const replacement = this.connect();
      if (replacement) replacement.send(next);
      else this.queue.unshift(next);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
