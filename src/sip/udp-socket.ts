/**
 * Opens the UDP socket both SIP endpoints use. The kernel's default 208 KiB receive buffer drops datagrams from
 * about 4,000 calls/s on loopback, so both buffers default to 4 MiB (the kernel caps them at net.core.rmem_max and
 * wmem_max; raise those on hosts where they are lower).
 */
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";

export const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export interface UdpSocketOptions {
  address: string;
  port: number;
  receiveBufferBytes?: number;
  sendBufferBytes?: number;
  /** SO_REUSEADDR: another socket with it may bind the same address and port (default false). */
  reuseAddr?: boolean;
  /** Connect to this peer: sends need no address and the kernel reports ICMP errors as socket errors. */
  connectTo?: { host: string; port: number };
}

/** Binds (and optionally connects) a UDP socket; rejects on bind or connect failure. */
export function openUdpSocket(options: UdpSocketOptions): Promise<Socket> {
  const socket = createSocket({
    type: isIPv6(options.address) ? "udp6" : "udp4",
    recvBufferSize: options.receiveBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES,
    sendBufferSize: options.sendBufferBytes ?? DEFAULT_SOCKET_BUFFER_BYTES,
    reuseAddr: options.reuseAddr ?? false,
  });
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once("error", fail);
    socket.bind(options.port, options.address, () => {
      const ready = () => {
        socket.off("error", fail);
        resolve(socket);
      };
      if (options.connectTo) socket.connect(options.connectTo.port, options.connectTo.host, ready);
      else ready();
    });
  });
}

/** Closes a socket, resolving once it is closed (or was already). */
export function closeUdpSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
