/**
 * A tiny authoritative DNS server on UDP for tests: it speaks the real wire protocol (RFC 1035, SRV per RFC 2782),
 * so the code under test resolves through node:dns's own c-ares client, pointed here with `setServers`. It answers
 * A, AAAA and SRV from a fixed table, NXDOMAIN for unknown names, and records every question it was asked.
 *
 * @example
 * const dns = await DnsServer.start("127.0.0.24", { "sip.test": [{ type: "A", address: "127.0.0.25", ttl: 60 }] });
 * new Resolver().setServers([dns.server]);
 */
import { createSocket, type Socket } from "node:dgram";

export type DnsRecord =
  | { type: "A"; address: string; ttl: number }
  | { type: "AAAA"; address: string; ttl: number }
  | { type: "SRV"; priority: number; weight: number; port: number; target: string; ttl: number };

const TYPES = { A: 1, AAAA: 28, SRV: 33 } as const;
const TYPE_NAMES = new Map<number, string>(Object.entries(TYPES).map(([k, v]) => [v, k]));

export class DnsServer {
  /** Every question, as "TYPE name", in order. */
  readonly questions: string[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly records: Record<string, DnsRecord[]>,
    /** "address:port" for Resolver.setServers. */
    readonly server: string,
  ) {
    socket.on("message", (query, remote) => {
      const answer = this.answer(query);
      if (answer) socket.send(answer, remote.port, remote.address);
    });
  }

  static start(address: string, records: Record<string, DnsRecord[]>): Promise<DnsServer> {
    const socket = createSocket("udp4");
    return new Promise((resolve) => {
      socket.bind(0, address, () => resolve(new DnsServer(socket, records, `${address}:${socket.address().port}`)));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(query: Buffer): Buffer | null {
    if (query.length < 12 || query.readUInt16BE(4) !== 1) return null;
    const labels: string[] = [];
    let offset = 12;
    while (offset < query.length && query[offset] !== 0) {
      const length = query[offset] as number;
      labels.push(query.toString("ascii", offset + 1, offset + 1 + length));
      offset += 1 + length;
    }
    const questionEnd = offset + 5;
    if (questionEnd > query.length) return null;
    const type = query.readUInt16BE(offset + 1);
    const name = labels.join(".").toLowerCase();
    this.questions.push(`${TYPE_NAMES.get(type) ?? type} ${name}`);
    const known = this.records[name];
    const matching = (known ?? []).filter((r) => TYPES[r.type] === type);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // id
    header.writeUInt16BE(0x8500 | (query.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2); // QR AA RD, NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(matching.length, 6);
    return Buffer.concat([header, query.subarray(12, questionEnd), ...matching.map(encodeRecord)]);
  }
}

function encodeRecord(record: DnsRecord): Buffer {
  let data: Buffer;
  if (record.type === "A") data = Buffer.from(record.address.split(".").map(Number));
  else if (record.type === "AAAA") data = ipv6Bytes(record.address);
  else {
    const fixed = Buffer.alloc(6);
    fixed.writeUInt16BE(record.priority, 0);
    fixed.writeUInt16BE(record.weight, 2);
    fixed.writeUInt16BE(record.port, 4);
    data = Buffer.concat([fixed, encodeName(record.target)]);
  }
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the question's name
  head.writeUInt16BE(TYPES[record.type], 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(record.ttl, 6);
  head.writeUInt16BE(data.length, 10);
  return Buffer.concat([head, data]);
}

function encodeName(name: string): Buffer {
  const parts = name.split(".").filter(Boolean);
  return Buffer.concat([...parts.flatMap((p) => [Buffer.from([p.length]), Buffer.from(p, "ascii")]), Buffer.from([0])]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = "", tail = ""] = address.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}
