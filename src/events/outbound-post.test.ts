/**
 * Outbound POSTs keep their connections alive, per receiver and per address it was checked at, against real HTTP
 * servers on loopback: one connection serves many requests, a receiver that drops an idle connection costs no
 * request, and the address guard still decides before anything connects.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { postJson } from "./outbound-post.js";

const loopback = new Set(["loopback"] as const);
const servers: Server[] = [];

/** A receiver on `address` that counts the connections it accepted and answers with `handler`. */
async function receiver(address: string, handler: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const stats = { connections: 0, requests: 0 };
  const server = createServer((req, res) => {
    stats.requests += 1;
    req.resume();
    req.on("end", () => handler(req, res, stats.requests));
  });
  server.on("connection", () => {
    stats.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  servers.push(server);
  return { url: `http://${address}:${(server.address() as AddressInfo).port}/hook`, stats };
}

const post = (url: string, timeoutMs = 5000) => postJson(url, '{"n":1}', {}, { timeoutMs, allowed: loopback });

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe("outbound POST connections", () => {
  it("sends successive POSTs to one receiver over one kept-alive connection", async () => {
    const r = await receiver("127.0.24.1", (_req, res) => res.writeHead(200).end("ok"));
    for (let i = 0; i < 20; i++) {
      const outcome = await post(r.url);
      expect(outcome).toMatchObject({ statusCode: 200, body: "ok", error: null });
    }
    expect(r.stats).toEqual({ connections: 1, requests: 20 });
  });

  it("keeps a separate pool per address: a connection is only ever reused for the address it was opened to", async () => {
    const a = await receiver("127.0.24.2", (_req, res) => res.writeHead(200).end("a"));
    const b = await receiver("127.0.24.3", (_req, res) => res.writeHead(200).end("b"));
    for (let i = 0; i < 5; i++) {
      expect((await post(a.url)).body).toBe("a");
      expect((await post(b.url)).body).toBe("b");
    }
    expect(a.stats).toEqual({ connections: 1, requests: 5 });
    expect(b.stats).toEqual({ connections: 1, requests: 5 });
  });

  it("sends again on a new connection when the receiver closed the kept-alive one as the request went out", async () => {
    // Every second request finds its connection closed under it, unanswered, as a server's idle timeout does.
    const r = await receiver("127.0.24.4", (req, res, n) => {
      if (n % 2 === 0) req.socket.destroy();
      else res.writeHead(200).end("ok");
    });
    expect((await post(r.url)).statusCode).toBe(200);
    expect(await post(r.url)).toMatchObject({ statusCode: 200, body: "ok", error: null });
    expect(r.stats).toEqual({ connections: 2, requests: 3 });
  });

  it("waits for an answer slower than the idle limit of kept-alive connections", async () => {
    const r = await receiver("127.0.24.5", (_req, res) => {
      setTimeout(() => res.writeHead(200).end("late"), 4500);
    });
    expect(await post(r.url, 8000)).toMatchObject({ statusCode: 200, body: "late" });
  }, 15_000);

  it("refuses an address class that is not allowed before connecting, whatever connections are open", async () => {
    const r = await receiver("127.0.24.6", (_req, res) => res.writeHead(200).end("ok"));
    expect((await post(r.url)).statusCode).toBe(200);
    const refused = await postJson(r.url, "{}", {}, { timeoutMs: 1000, allowed: new Set() });
    expect(refused).toMatchObject({ statusCode: null, error: "refused: 127.0.24.6 resolves to 127.0.24.6 (loopback)" });
    expect(r.stats.requests).toBe(1);
  });

  it("gives up at the deadline on a receiver that never answers", async () => {
    const r = await receiver("127.0.24.7", () => undefined);
    expect(await post(r.url, 300)).toMatchObject({ statusCode: null, error: "timeout after 300 ms" });
  });
  it("resolves a host name, checks it and pins the connection to it, with the name kept in the Host header", async () => {
    const hosts: (string | undefined)[] = [];
    const r = await receiver("127.0.0.1", (req, res) => {
      hosts.push(req.headers.host);
      res.writeHead(200).end(req.socket.localAddress);
    });
    const named = r.url.replace("127.0.0.1", "localhost");
    for (let i = 0; i < 3; i++) expect(await post(named)).toMatchObject({ statusCode: 200, body: "127.0.0.1" });
    expect(hosts).toEqual(Array(3).fill(new URL(named).host));
    expect(r.stats).toEqual({ connections: 1, requests: 3 });
    // The name resolves to loopback, which these options do not allow: refused before anything connects.
    const refused = await postJson(named, "{}", {}, { timeoutMs: 1000, allowed: new Set() });
    expect(refused).toMatchObject({ statusCode: null });
    expect(refused.error).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1) \(loopback\)$/);
    expect(r.stats.requests).toBe(3);
  });
});
