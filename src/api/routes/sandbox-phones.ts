/**
 * GET /sandbox/phones/{e164}: what a virtual handset of the built-in carrier saw (missed calls, voice calls with
 * their recordings, SMS and WhatsApp messages), GET /sandbox/phones/{e164}/recordings/{call}.wav: one voice call's
 * audio, and GET /sandbox/inbox/{address}: what the virtual mailbox received, newest first. Registered only when the
 * sandbox is on; there is no real phone behind them, so they need no credentials.
 */
import { z } from "zod";
import { parseDestination } from "../../core/phone.js";
import { sendError } from "../errors.js";
import type { RouteRegistration } from "../route-kit.js";
import { ErrorView } from "../views.js";

const Phone = z.object({
  phone: z.string(),
  calls: z.array(
    z.object({
      from: z.string().describe("the caller ID the handset saw"),
      received_at: z.string(),
      result: z.enum(["ringing", "missed", "busy", "not_found", "no_answer", "answered", "rejected"]),
      voice: z
        .object({
          codec: z.string(),
          duration_ms: z.number().int().nullable().describe("from the answer to the BYE; null while the call lasts"),
          recording: z.string().nullable().describe("the recorded audio (WAV); null while the call lasts"),
        })
        .optional()
        .describe("a voice call the handset answered"),
    }),
  ),
  messages: z.array(
    z.object({
      channel: z.enum(["sms", "whatsapp", "viber"]),
      from: z.string(),
      text: z.string(),
      received_at: z.string(),
    }),
  ),
});

/** A file sent as it is: documented as binary, never serialised. */
const WavFile = z.custom<Buffer>((value) => Buffer.isBuffer(value)).meta({ type: "string", format: "binary" });

const Inbox = z.object({
  address: z.string(),
  messages: z.array(z.object({ from: z.string(), subject: z.string(), text: z.string(), received_at: z.string() })),
});

export const registerSandboxPhones: RouteRegistration = (app, services) => {
  const sandbox = services.sandbox;
  if (!sandbox) return;
  const { handsets } = sandbox;
  app.get(
    "/sandbox/phones/:phone",
    {
      // The demo page polls this several times a second: its requests would drown the request log.
      logLevel: "warn",
      schema: {
        summary: "A virtual handset's missed calls and messages",
        tags: ["sandbox"],
        params: z.object({ phone: z.string().min(1).max(64) }),
        response: { 200: Phone, 400: ErrorView },
      },
    },
    async (request, reply) => {
      const phone = parseDestination(request.params.phone);
      if (!phone) return sendError(reply, { code: "INVALID_PHONE_NUMBER" });
      return {
        phone: phone.e164,
        calls: handsets.calls(phone.e164).map((c) => ({
          from: c.from,
          received_at: new Date(c.receivedAt).toISOString(),
          result: c.result,
          ...(c.voice
            ? {
                voice: {
                  codec: c.voice.codec,
                  duration_ms: c.voice.endedAt === null ? null : c.voice.endedAt - c.voice.answeredAt,
                  recording: c.voice.recording
                    ? `/sandbox/phones/${encodeURIComponent(phone.e164)}/recordings/${encodeURIComponent(c.callId)}.wav`
                    : null,
                },
              }
            : {}),
        })),
        messages: [
          ...sandbox.smsc.messages(phone.e164),
          ...sandbox.whatsapp.messages(phone.e164),
          ...sandbox.viber.messages(phone.e164),
        ]
          .sort((a, b) => b.receivedAt - a.receivedAt)
          .map((m) => ({
            channel: m.channel,
            from: m.from,
            text: m.text,
            received_at: new Date(m.receivedAt).toISOString(),
          })),
      };
    },
  );

  app.get(
    "/sandbox/phones/:phone/recordings/:file",
    {
      logLevel: "warn",
      schema: {
        summary: "A voice call's audio as the virtual handset recorded it (8 kHz 16-bit WAV)",
        tags: ["sandbox"],
        params: z.object({ phone: z.string().min(1).max(64), file: z.string().min(5).max(200) }),
        response: {
          200: { description: "the call's audio", content: { "audio/wav": { schema: WavFile } } },
          400: ErrorView,
          404: ErrorView,
        },
      },
    },
    async (request, reply) => {
      const phone = parseDestination(request.params.phone);
      if (!phone) return sendError(reply, { code: "INVALID_PHONE_NUMBER" });
      const callId = request.params.file.replace(/\.wav$/, "");
      const recording = handsets.calls(phone.e164).find((c) => c.callId === callId)?.voice?.recording;
      if (!recording) return sendError(reply, { code: "NOT_FOUND" });
      return reply.type("audio/wav").header("cache-control", "no-store").send(recording);
    },
  );

  app.get(
    "/sandbox/inbox/:address",
    {
      logLevel: "warn",
      schema: {
        summary: "What the virtual mailbox received for an address",
        tags: ["sandbox"],
        params: z.object({ address: z.email().max(254) }),
        response: { 200: Inbox, 400: ErrorView },
      },
    },
    async (request) => ({
      address: request.params.address.toLowerCase(),
      messages: sandbox.inbox.messages(request.params.address).map((m) => ({
        from: m.from,
        subject: m.subject,
        text: m.text,
        received_at: new Date(m.receivedAt).toISOString(),
      })),
    }),
  );
};
