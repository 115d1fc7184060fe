/**
 * A TCP proxy in front of PostgreSQL that can lose one answer, as a network failing at the worst moment would: the
 * reply to the next statement naming a marker is read up to its ReadyForQuery and never passed on, and both
 * connections are closed instead. By ReadyForQuery PostgreSQL has committed the statement (in autocommit the
 * extended protocol commits at Sync, before it answers ReadyForQuery), so the client sees an error for a write that
 * happened.
 */
import net from "node:net";

export interface ReplyDropper {
  /** the database URL through the proxy */
  url: string;
  /** Loses the reply to the next statement whose messages contain `marker`; resolves once it is lost. */
  dropReplyTo(marker: string): Promise<void>;
  close(): Promise<void>;
}

const READY_FOR_QUERY = 0x5a; // 'Z'

export async function startReplyDropper(databaseUrl: string): Promise<ReplyDropper> {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  let drop: { marker: string; lost(): void } | undefined;

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    // Set on the connection that carried the marked statement: its lost() once the reply is complete.
    let losing: (() => void) | undefined;
    let held = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      if (drop && chunk.includes(drop.marker)) {
        losing = drop.lost;
        drop = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!losing) {
        client.write(chunk);
        return;
      }
      // The client waits for ReadyForQuery before its next statement, so the reply starts on a message boundary.
      held = Buffer.concat([held, chunk]);
      for (let at = 0; held.length - at >= 5; ) {
        const type = held[at];
        const length = held.readInt32BE(at + 1);
        if (held.length - at < 1 + length) break;
        if (type === READY_FOR_QUERY) {
          client.destroy();
          upstream.destroy();
          losing();
          return;
        }
        at += 1 + length;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  return {
    url: url.toString(),
    dropReplyTo: (marker) =>
      new Promise((resolve) => {
        drop = { marker, lost: resolve };
      }),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
