/**
 * Splits a TCP or TLS byte stream into SIP messages by Content-Length (RFC 3261 §18.3: on a stream it is
 * mandatory), and recognises RFC 5626 keepalives: a CRLF pair between messages is a ping to answer with one CRLF,
 * a lone CRLF is a pong.
 *
 * @example
 * const framer = new StreamFramer();
 * socket.on("data", (chunk) => framer.push(chunk, (msg) => onMessage(msg), () => socket.write("\r\n")));
 */

/** A message header larger than this without its blank line is not SIP: the connection is dropped. */
export const MAX_MESSAGE_BYTES = 65_536;

const CRLF2 = Buffer.from("\r\n\r\n");
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

export class StreamFramer {
  private pending: Buffer | null = null;

  /**
   * Feeds bytes; calls `emit` for each complete message and `onPing` for each keepalive ping.
   * @throws Error on a header block over MAX_MESSAGE_BYTES or without Content-Length (the stream cannot be re-synced)
   */
  push(chunk: Buffer, emit: (message: Buffer) => void, onPing: () => void): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let offset = 0;
    while (offset < data.length) {
      // Keepalives between messages: CRLFCRLF is a ping, a lone CRLF a pong (RFC 5626 §3.5.1).
      if (data[offset] === 13) {
        const left = data.length - offset;
        if (left >= 2 && data[offset + 1] !== 10) throw new Error("stray CR between SIP messages");
        if (left >= 4 && data[offset + 2] === 13 && data[offset + 3] === 10) {
          onPing();
          offset += 4;
        } else if (left >= 4 || (left === 3 && data[offset + 2] !== 13)) {
          offset += 2;
        } else {
          break; // "\r", "\r\n" or "\r\n\r" so far: a ping or a pong, wait for more
        }
        continue;
      }
      const headerEnd = data.indexOf(CRLF2, offset);
      if (headerEnd < 0) {
        if (data.length - offset > MAX_MESSAGE_BYTES) throw new Error("SIP header block too large");
        break;
      }
      const header = data.toString("latin1", offset, headerEnd);
      const match = CONTENT_LENGTH.exec(header);
      if (!match) throw new Error("SIP message on a stream without Content-Length");
      const length = Number(match[1]);
      if (length > MAX_MESSAGE_BYTES) throw new Error("SIP body too large");
      const end = headerEnd + 4 + length;
      if (end > data.length) break;
      emit(data.subarray(offset, end));
      offset = end;
    }
    if (offset < data.length) {
      // Copy the remainder: `data` may be a socket chunk the stream reuses.
      data = Buffer.from(data.subarray(offset));
      this.pending = data;
    }
  }
}
