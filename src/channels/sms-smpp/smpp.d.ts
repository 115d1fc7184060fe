/**
 * Type declarations for the `smpp` npm package (0.5.x), covering what flashverify uses: client sessions, the
 * server the sandbox SMSC is built on, and PDUs. The package encodes a PDU's fields from plain objects; we always
 * hand it `short_message` as a Buffer we encoded ourselves (GSM-7 or UCS-2, with our own UDH), which it passes
 * through untouched.
 */
declare module "smpp" {
  import type { EventEmitter } from "node:events";
  import type { Server as NetServer, Socket } from "node:net";

  /** A decoded short_message: the package splits off the UDH and decodes the text by data_coding. */
  export interface DecodedShortMessage {
    udh?: Buffer[];
    message: string | Buffer;
  }

  export class PDU {
    constructor(command: string, options?: Record<string, unknown>);
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): PDU;
    toBuffer(): Buffer;
    // Mandatory and optional parameters, present according to the command.
    system_id?: string;
    password?: string;
    system_type?: string;
    interface_version?: number;
    message_id?: string;
    service_type?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    source_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    destination_addr?: string;
    esm_class?: number;
    registered_delivery?: number;
    data_coding?: number;
    short_message?: DecodedShortMessage | Buffer | string;
    receipted_message_id?: string;
    message_state?: number;
    [field: string]: unknown;
  }

  export type PduCallback = (pdu: PDU) => void;

  export interface SessionOptions {
    host?: string;
    port?: number;
    tls?: boolean;
    socket?: Socket;
    auto_enquire_link_period?: number;
  }

  export class Session extends EventEmitter {
    constructor(options: SessionOptions);
    readonly socket: Socket;
    server?: Server;
    send(pdu: PDU, responseCallback?: PduCallback, sendCallback?: PduCallback): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    // Command shortcuts: build a PDU from the fields and send it; false when the socket is not writable.
    bind_transceiver(fields: Record<string, unknown>, responseCallback?: PduCallback): boolean;
    submit_sm(fields: Record<string, unknown>, responseCallback?: PduCallback, sendCallback?: PduCallback): boolean;
    deliver_sm(fields: Record<string, unknown>, responseCallback?: PduCallback): boolean;
    enquire_link(fields?: Record<string, unknown> | PduCallback, responseCallback?: PduCallback): boolean;
    unbind(fields?: Record<string, unknown> | PduCallback, responseCallback?: PduCallback): boolean;
    generic_nack(fields?: Record<string, unknown>): boolean;
    on(event: "pdu" | string, listener: (pdu: PDU) => void): this;
    on(event: "connect" | "close" | "secureConnect", listener: () => void): this;
    on(event: "error", listener: (error: Error) => void): this;
  }

  export class Server extends NetServer {
    sessions: Session[];
    on(event: "session", listener: (session: Session) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export function connect(options: SessionOptions, listener?: () => void): Session;
  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;

  // Command status codes used here (SMPP 3.4 §5.1.3).
  export const ESME_ROK: number;
  export const ESME_RINVMSGLEN: number;
  export const ESME_RINVCMDID: number;
  export const ESME_RINVBNDSTS: number;
  export const ESME_RALYBND: number;
  export const ESME_RSYSERR: number;
  export const ESME_RINVDSTADR: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RINVPASWD: number;
  export const ESME_RINVSYSID: number;
  export const ESME_RTHROTTLED: number;
  export const ESME_RMSGQFUL: number;
  export const ESME_RSUBMITFAIL: number;
}
