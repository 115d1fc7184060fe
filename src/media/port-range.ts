/**
 * RTP sockets from the configured port range: a firewall in front of a media server opens exactly that range. Even
 * ports only (RFC 3550 §11: RTP on the even port, RTCP on the odd one above it, which we leave free for it).
 */
import type { Socket } from "node:dgram";
import { openUdpSocket } from "../sip/udp-socket.js";

export interface PortRange {
  min: number;
  max: number;
}

/** Media sockets need little buffer: 50 packets a second each way. */
const RTP_BUFFER_BYTES = 64 * 1024;

/**
 * Binds a UDP socket on a free even port of `range` at `address`, starting at a random one (other processes and
 * threads draw from the same range). Rejects when no port of the range is free.
 */
export async function openRtpSocket(address: string, range: PortRange): Promise<Socket> {
  const first = range.min + (range.min % 2);
  const count = Math.floor((range.max - first) / 2) + 1;
  if (count <= 0) throw new RangeError(`no even port in ${range.min}-${range.max}`);
  const start = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i++) {
    const port = first + ((start + i) % count) * 2;
    try {
      return await openUdpSocket({
        address,
        port,
        receiveBufferBytes: RTP_BUFFER_BYTES,
        sendBufferBytes: RTP_BUFFER_BYTES,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    }
  }
  throw Object.assign(new Error(`every RTP port of ${range.min}-${range.max} is in use`), { code: "EADDRINUSE" });
}
