/**
 * SipUac over TCP against a scripted TCP peer: connection reuse, a dropped connection, a refused one. Interop over
 * TCP and TLS with a real peer is in test/sip-uac-transports.sipp.test.ts.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatResponse, parseMessage, type SipMessage } from "./message.js";
import { StreamFramer } from "./stream-framer.js";
import { type PlaceCallOptions, SipUac } from "./uac.js";

const ADDRESS = "127.0.0.28";
const CALL: PlaceCallOptions = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 5000, maxDialMs: 5000 };

interface Got {
  msg: SipMessage;
  socket: Socket;
}

class TcpPeer {
  readonly connections: Socket[] = [];
  readonly received: Got[] = [];
  private waiters: { method: string; resolve: (g: Got) => void }[] = [];

  constructor(readonly server: Server) {
    server.on("connection", (socket) => {
      this.connections.push(socket);
      const framer = new StreamFramer();
      socket.on("error", () => {});
      socket.on("data", (chunk) =>
        framer.push(
          chunk,
          (data) => {
            const msg = parseMessage(data.toString());
            if (!msg) return;
            const got = { msg, socket };
            const waiter = this.waiters.find((w) => w.method === msg.method);
            if (waiter) {
              this.waiters = this.waiters.filter((w) => w !== waiter);
              waiter.resolve(got);
            } else this.received.push(got);
          },
          () => {},
        ),
      );
    });
  }

  static async start(): Promise<TcpPeer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, ADDRESS, resolve));
    return new TcpPeer(server);
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  next(method: string): Promise<Got> {
    const index = this.received.findIndex((g) => g.msg.method === method);
    if (index >= 0) return Promise.resolve(this.received.splice(index, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ method, resolve }));
  }

  respond(got: Got, status: number, phrase: string): void {
    got.socket.write(formatResponse(got.msg, status, phrase, { toTag: "t1" }));
  }

  close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let peer: TcpPeer;
let uac: SipUac | undefined;

beforeEach(async () => {
  peer = await TcpPeer.start();
});

afterEach(async () => {
  await uac?.close();
  uac = undefined;
  await peer.close();
});

describe("SipUac over TCP", () => {
  it("carries every call over one connection", async () => {
    uac = await SipUac.create({ target: { host: ADDRESS, port: peer.port }, transport: "tcp" });
    const calls = [uac.placeCall(CALL), uac.placeCall(CALL), uac.placeCall(CALL)];
    for (let i = 0; i < 3; i++) peer.respond(await peer.next("INVITE"), 486, "Busy Here");
    expect((await Promise.all(calls.map((c) => c.done))).map((r) => r.reason)).toEqual(["busy", "busy", "busy"]);
    expect(peer.connections).toHaveLength(1);
  });

  it("a dropped connection ends the calls on it network_error, CANCELs them on a new one, and later calls reconnect", async () => {
    uac = await SipUac.create({ target: { host: ADDRESS, port: peer.port }, transport: "tcp" });
    const ringing = uac.placeCall(CALL);
    const invite = await peer.next("INVITE");
    peer.respond(invite, 180, "Ringing");
    await new Promise((resolve) => setTimeout(resolve, 50));
    invite.socket.destroy();
    expect(await ringing.done).toMatchObject({ reason: "network_error", finalCode: null });
    expect((await ringing.done).ringingAt).not.toBeNull();
    const cancel = await peer.next("CANCEL");
    expect(cancel.socket).not.toBe(invite.socket);
    expect(cancel.msg.via[0]).toContain(`branch=${invite.msg.via[0]!.split("branch=")[1]!.split(";")[0]}`);

    const later = uac.placeCall(CALL);
    peer.respond(await peer.next("INVITE"), 480, "Temporarily Unavailable");
    expect(await later.done).toMatchObject({ reason: "unreachable", finalCode: 480 });
    expect(peer.connections).toHaveLength(2);
  });

  it("a refused connection ends calls network_error at once, during the backoff too; a probe retries at once", async () => {
    const port = peer.port;
    await peer.close();
    uac = await SipUac.create({ target: { host: ADDRESS, port }, transport: "tcp", t1Ms: 50 });
    const first = await uac.placeCall(CALL).done;
    expect(first).toMatchObject({ reason: "network_error", finalCode: null });
    expect(first.endedAt - first.startedAt).toBeLessThan(1000);
    expect(await uac.probe(500)).toBeNull();
    peer = new TcpPeer(createServer());
    await new Promise<void>((resolve) => peer.server.listen(port, ADDRESS, resolve));
    const probe = uac.probe(2000);
    peer.respond(await peer.next("OPTIONS"), 200, "OK");
    expect(await probe).toBe(200);
  });
});
