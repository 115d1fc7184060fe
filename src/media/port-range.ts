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
  return (await claimRtpPort(address, range, false)).rtp;
}

/**
 * As openRtpSocket, but the socket has SO_REUSEADDR, so that a second one (`openSharedRtpSocket`) can send from
 * its port. Such a bind no longer fails on a port that another SO_REUSEADDR socket holds, so the port is claimed
 * through its RTCP neighbour (port + 1), bound without SO_REUSEADDR: only one claim of it can exist, and it keeps
 * the RTCP port free of other uses, as RFC 3550 §11 wants. Close `rtcp` with the call.
 */
export function openSharedRtpPort(address: string, range: PortRange): Promise<{ rtp: Socket; rtcp: Socket }> {
  return claimRtpPort(address, range, true) as Promise<{ rtp: Socket; rtcp: Socket }>;
}

async function claimRtpPort(
  address: string,
  range: PortRange,
  shared: boolean,
): Promise<{ rtp: Socket; rtcp: Socket | null }> {
  const first = range.min + (range.min % 2);
  const count = Math.floor((range.max - first) / 2) + 1;
  if (count <= 0) throw new RangeError(`no even port in ${range.min}-${range.max}`);
  const start = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i++) {
    const port = first + ((start + i) % count) * 2;
    let rtcp: Socket | null = null;
    try {
      if (shared)
        rtcp = await openUdpSocket({ address, port: port + 1, receiveBufferBytes: 4096, sendBufferBytes: 4096 });
      const rtp = await openUdpSocket({
        address,
        port,
        receiveBufferBytes: RTP_BUFFER_BYTES,
        sendBufferBytes: RTP_BUFFER_BYTES,
        reuseAddr: shared,
      });
      return { rtp, rtcp };
    } catch (error) {
      rtcp?.close();
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    }
  }
  throw Object.assign(new Error(`every RTP port of ${range.min}-${range.max} is in use`), { code: "EADDRINUSE" });
}

/** A second socket on the port of a `shared` one (SO_REUSEADDR on both). */
export function openSharedRtpSocket(address: string, port: number): Promise<Socket> {
  return openUdpSocket({
    address,
    port,
    receiveBufferBytes: RTP_BUFFER_BYTES,
    sendBufferBytes: RTP_BUFFER_BYTES,
    reuseAddr: true,
  });
}
