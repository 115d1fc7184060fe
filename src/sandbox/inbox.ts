/**
 * The virtual carrier's mailbox: an SMTP server (the `smtp-server` package) on loopback that accepts mail for any
 * address and keeps it per recipient, so email OTPs are sent over real SMTP in the sandbox and in tests.
 *
 * Test addresses: a local part of `reject` is refused with 550 at RCPT TO (the mailbox does not exist).
 */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface SandboxEmail {
  channel: "email";
  from: string;
  to: string;
  subject: string;
  text: string;
  receivedAt: number;
}

export interface VirtualInboxOptions {
  /** Default "127.0.0.2". */
  address?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  maxMessagesPerAddress?: number;
  now?: () => number;
}

const MAX_MESSAGE_BYTES = 256 * 1024;

export class VirtualInbox {
  readonly local: { address: string; port: number };
  private readonly boxes = new Map<string, SandboxEmail[]>();

  static async create(options: VirtualInboxOptions = {}): Promise<VirtualInbox> {
    const inbox: { current?: VirtualInbox } = {};
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      size: MAX_MESSAGE_BYTES,
      logger: false,
      onRcptTo(address, _session, callback) {
        if (address.address.split("@")[0]?.toLowerCase() === "reject") {
          const error = Object.assign(new Error("5.1.1 Mailbox does not exist"), { responseCode: 550 });
          return callback(error);
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const recipients = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
          inbox.current?.receive(Buffer.concat(chunks).toString("latin1"), recipients);
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.address ?? "127.0.0.2", () => resolve());
    });
    inbox.current = new VirtualInbox(server, options);
    return inbox.current;
  }

  private constructor(
    private readonly server: SMTPServer,
    private readonly options: VirtualInboxOptions,
  ) {
    const { address, port } = server.server.address() as AddressInfo;
    this.local = { address, port };
  }

  /** Mail an address received, newest first. */
  messages(address: string): SandboxEmail[] {
    return [...(this.boxes.get(address.toLowerCase()) ?? [])].reverse();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private receive(raw: string, recipients: string[]): void {
    const mail = parseSimpleMail(raw);
    for (const to of recipients) {
      const box = this.boxes.get(to) ?? [];
      box.push({ channel: "email", to, ...mail, receivedAt: (this.options.now ?? Date.now)() });
      if (box.length > (this.options.maxMessagesPerAddress ?? 20)) box.shift();
      this.boxes.set(to, box);
    }
  }
}

/**
 * Reads a text message as nodemailer writes one (headers, a blank line, a 7bit, quoted-printable or base64 body;
 * RFC 2047 encoded words in headers), taking the text/plain part of a multipart/alternative one. Enough for the
 * sandbox to show an OTP mail; not a MIME library.
 */
export function parseSimpleMail(raw: string): { from: string; subject: string; text: string } {
  const { headers, text } = parsePart(raw);
  return {
    from: decodeWords(headers.get("from") ?? ""),
    subject: decodeWords(headers.get("subject") ?? ""),
    text,
  };
}

function parsePart(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? "" : raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const type = headers.get("content-type") ?? "text/plain";
  const boundary = /^multipart\/.*boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (boundary) {
    const parts = body
      .split(`--${boundary}`)
      .slice(1, -1)
      .map((part) => parsePart(part.replace(/^\r\n/, "")));
    const plain = parts.find((part) => (part.headers.get("content-type") ?? "text/plain").startsWith("text/plain"));
    return { headers, text: plain?.text ?? "" };
  }
  const encoding = (headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  let bytes: Buffer;
  if (encoding === "base64") bytes = Buffer.from(body.replace(/\s+/g, ""), "base64");
  else if (encoding === "quoted-printable") bytes = decodeQuotedPrintable(body);
  else bytes = Buffer.from(body, "latin1");
  return { headers, text: bytes.toString("utf8").replace(/\r\n/g, "\n").replace(/\n$/, "") };
}

function decodeQuotedPrintable(body: string): Buffer {
  const soft = body.replace(/=\r\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(soft.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : decodeQuotedPrintable(text.replace(/_/g, " ")).toString("utf8"),
    );
}
