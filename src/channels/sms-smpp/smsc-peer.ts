/**
 * What an SMSC peer reports to the SMPP channel's conformance suite (test/conformance/smpp.ts): the submit_sm it
 * received, decoded. The sandbox's SMSC records the same shape, so a test reads either peer the same way.
 */
import type { ConcatHeader } from "./segments.js";

export interface PeerSubmit {
  to: string;
  sourceAddr: string;
  sourceTon: number;
  sourceNpi: number;
  destTon: number;
  destNpi: number;
  dataCoding: number;
  esmClass: number;
  text: string;
  concat: ConcatHeader | null;
}

export interface SmscPeer {
  host: string;
  port: number;
  systemId: string;
  password: string;
  /** submit_sm received so far, in order */
  submits(): PeerSubmit[];
  close(): Promise<void>;
}
