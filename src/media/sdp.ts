/**
 * The SDP of a voice call (RFC 4566, offer/answer per RFC 3264), as far as G.711 audio with RFC 4733 DTMF needs:
 * one audio stream, its connection address and port, its payload types with their rtpmap.
 *
 * We offer PCMU, PCMA and telephone-event; the answerer picks. RFC 3264 §6.1 lets the answer keep the offer's
 * payload type numbers or not, so the answer's own numbers (by rtpmap name, static types without one) decide what
 * we send and how we read its DTMF.
 *
 * @example
 * const offer = sdpOffer({ address: "192.0.2.5", port: 20000, sessionId: 1 });
 * const media = negotiate(parseSdp(answerBody)); // { codec: "PCMU", payloadType: 0, eventPayloadType: 101, ... }
 */
import { isIPv6 } from "node:net";
import type { G711Codec } from "./g711.js";

/** The payload type we offer for telephone-event (dynamic range, the number most equipment uses). */
export const OFFERED_EVENT_PAYLOAD_TYPE = 101;
const STATIC_TYPES: Record<number, G711Codec> = { 0: "PCMU", 8: "PCMA" };

export interface SdpAudio {
  /** The connection address (media level `c=`, else session level). */
  address: string;
  port: number;
  /** Payload types in the m-line's order of preference. */
  payloadTypes: number[];
  /** Encoding names by payload type, upper case ("PCMU", "TELEPHONE-EVENT"), from `a=rtpmap`. */
  rtpmap: Map<number, { name: string; rate: number }>;
  /** `a=sendrecv` (default), `sendonly`, `recvonly` or `inactive`. */
  direction: string;
  ptimeMs: number | null;
}

/** The first audio stream of an SDP body; null when there is none or it has no usable address. */
export function parseSdp(body: string): SdpAudio | null {
  let sessionAddress: string | null = null;
  let audio: SdpAudio | null = null;
  let inAudio = false;
  let done = false;
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== "=") continue;
    const type = line[0];
    const value = line.slice(2);
    if (type === "m") {
      if (audio) done = true;
      const [media, port, proto, ...formats] = value.split(/\s+/);
      inAudio = !done && media === "audio" && proto === "RTP/AVP";
      if (inAudio) {
        audio = {
          address: "",
          port: Number(port),
          payloadTypes: formats.map(Number).filter((n) => Number.isInteger(n) && n >= 0 && n < 128),
          rtpmap: new Map(),
          direction: "sendrecv",
          ptimeMs: null,
        };
      }
      continue;
    }
    if (done) continue;
    if (type === "c") {
      const address = value.split(/\s+/)[2]?.split("/")[0] ?? "";
      if (audio && inAudio) audio.address = address;
      else if (!audio) sessionAddress = address;
    } else if (type === "a" && audio && inAudio) {
      const attribute = value.match(/^rtpmap:(\d+)\s+([^/\s]+)\/(\d+)/);
      if (attribute) {
        audio.rtpmap.set(Number(attribute[1]), {
          name: (attribute[2] as string).toUpperCase(),
          rate: Number(attribute[3]),
        });
      } else if (/^(sendrecv|sendonly|recvonly|inactive)$/.test(value)) audio.direction = value;
      else if (value.startsWith("ptime:")) audio.ptimeMs = Number(value.slice(6)) || null;
    }
  }
  if (!audio) return null;
  if (!audio.address) audio.address = sessionAddress ?? "";
  if (!audio.address || !Number.isInteger(audio.port) || audio.port < 0 || audio.port > 65535) return null;
  return audio;
}

/** What both sides agreed: the codec we send, its payload type, and the payload type of the far end's DTMF. */
export interface NegotiatedAudio {
  address: string;
  port: number;
  codec: G711Codec;
  payloadType: number;
  /** null when the answer did not accept telephone-event (DTMF then cannot reach us). */
  eventPayloadType: number | null;
  /** Whether the far end will send us media at all (sendrecv or sendonly from its side). */
  farEndSends: boolean;
}

/**
 * Picks the first G.711 type of the answer (its order is its preference) and its telephone-event type. Null when the
 * answer accepted no G.711 or rejected the stream (port 0), or holds it (`inactive`, `sendonly`: no place to send).
 */
export function negotiate(answer: SdpAudio): NegotiatedAudio | null {
  if (answer.port === 0 || answer.direction === "inactive" || answer.direction === "sendonly") return null;
  let codec: { name: G711Codec; pt: number } | null = null;
  let eventPayloadType: number | null = null;
  for (const pt of answer.payloadTypes) {
    const name = answer.rtpmap.get(pt)?.name ?? STATIC_TYPES[pt];
    if (!codec && (name === "PCMU" || name === "PCMA")) codec = { name, pt };
    if (eventPayloadType === null && name === "TELEPHONE-EVENT") eventPayloadType = pt;
  }
  if (!codec) return null;
  return {
    address: answer.address,
    port: answer.port,
    codec: codec.name,
    payloadType: codec.pt,
    eventPayloadType,
    farEndSends: answer.direction === "sendrecv",
  };
}

export interface SdpDescription {
  address: string;
  port: number;
  /** The `o=` session id and version (a number the describer picks). */
  sessionId: number;
  /** Default: our offer, PCMU, PCMA and telephone-event 101. */
  formats?: readonly SdpFormat[];
  direction?: string;
  username?: string;
}

export interface SdpFormat {
  pt: number;
  name: string;
  fmtp?: string;
}

const OFFER_FORMATS: readonly SdpFormat[] = [
  { pt: 0, name: "PCMU" },
  { pt: 8, name: "PCMA" },
  { pt: OFFERED_EVENT_PAYLOAD_TYPE, name: "telephone-event", fmtp: "0-15" },
];

/** An SDP body with one audio stream at 8 kHz and 20 ms packets. */
export function describeAudio(d: SdpDescription): string {
  const family = isIPv6(d.address) ? "IP6" : "IP4";
  const formats = d.formats ?? OFFER_FORMATS;
  const lines = [
    "v=0",
    `o=${d.username ?? "flashverify"} ${d.sessionId} ${d.sessionId} IN ${family} ${d.address}`,
    "s=-",
    `c=IN ${family} ${d.address}`,
    "t=0 0",
    `m=audio ${d.port} RTP/AVP ${formats.map((f) => f.pt).join(" ")}`,
  ];
  for (const f of formats) {
    lines.push(`a=rtpmap:${f.pt} ${f.name}/8000`);
    if (f.fmtp) lines.push(`a=fmtp:${f.pt} ${f.fmtp}`);
  }
  lines.push("a=ptime:20", `a=${d.direction ?? "sendrecv"}`);
  return `${lines.join("\r\n")}\r\n`;
}

/** Our offer: PCMU, PCMA, telephone-event 101 (events 0-15), sendrecv (the far end's DTMF comes back to us). */
export function sdpOffer(where: { address: string; port: number; sessionId: number }): string {
  return describeAudio(where);
}
