/**
 * The message channels, one line each: the channel's name and how it is built from the configuration (or, with
 * the sandbox on and nothing configured, pointed at the virtual carrier). A new channel is a folder beside these
 * and one line here.
 */
import type { Config } from "../config.js";
import type { MessageChannel } from "../core/ports.js";
import type { VirtualInbox } from "../sandbox/inbox.js";
import type { VirtualSmsc } from "../sandbox/smsc.js";
import type { VirtualViber } from "../sandbox/viber.js";
import type { VirtualWhatsApp } from "../sandbox/whatsapp.js";
import type { FlashCaller } from "../sip/types.js";
import { createEmailSender } from "./email/index.js";
import { createReverseFlashcallChannel } from "./reverse-flashcall/index.js";
import { createHttpSmsSender } from "./sms-http/index.js";
import { createTwilioSmsSender } from "./sms-http/twilio.js";
import { createSmppSmsSender } from "./sms-smpp/index.js";
import { createViberSender } from "./viber/index.js";
import { createVoiceChannel, SANDBOX_VOICE_CALLER_ID, SpeechClips, voiceEnabled } from "./voice/index.js";
import { createWhatsAppSender } from "./whatsapp/index.js";

export interface SandboxCarrier {
  smsc: VirtualSmsc;
  whatsapp: VirtualWhatsApp;
  viber: VirtualViber;
  inbox: VirtualInbox;
}

/** What a channel that places calls needs: the trunk layer. */
export interface ChannelSip {
  caller: FlashCaller;
  /** a failure that is no send's outcome (a prompt that cannot be rendered, a bug) */
  onError: (error: unknown) => void;
}

type Factory = (config: Config, sandbox: SandboxCarrier | null, sip: ChannelSip) => MessageChannel | null;

export const MESSAGE_CHANNELS = {
  sms: smsChannel,
  whatsapp: whatsappChannel,
  viber: viberChannel,
  email: emailChannel,
  voice: voiceChannel,
  reverse_flashcall: (config, sandbox) => createReverseFlashcallChannel(config, sandbox !== null),
} satisfies Record<string, Factory>;

export type MessageChannelName = keyof typeof MESSAGE_CHANNELS;

function smsChannel(config: Config, sandbox: SandboxCarrier | null): MessageChannel | null {
  const sms = config.sms;
  switch (sms.provider) {
    case "smpp":
      return createSmppSmsSender(sms.options);
    case "sandbox": {
      if (!sandbox) return null;
      const { address, port } = sandbox.smsc.local;
      return createSmppSmsSender({
        bind: { host: address, port, ...sandbox.smsc.credentials, reconnectMinMs: 100 },
        sender: sms.sender,
      });
    }
    case "twilio":
      return createTwilioSmsSender(sms.options);
    case "http":
      return createHttpSmsSender(sms.options);
    case "none":
      return null;
  }
}

function whatsappChannel(config: Config, sandbox: SandboxCarrier | null): MessageChannel | null {
  if (config.WHATSAPP_PHONE_NUMBER_ID && config.WHATSAPP_ACCESS_TOKEN) {
    return createWhatsAppSender({
      phoneNumberId: config.WHATSAPP_PHONE_NUMBER_ID,
      accessToken: config.WHATSAPP_ACCESS_TOKEN,
      templateName: config.WHATSAPP_TEMPLATE,
      languageCode: config.WHATSAPP_LANGUAGE,
      ...(config.WHATSAPP_BASE_URL ? { baseUrl: config.WHATSAPP_BASE_URL } : {}),
    });
  }
  if (!sandbox) return null;
  return createWhatsAppSender({
    baseUrl: sandbox.whatsapp.baseUrl,
    phoneNumberId: "sandbox",
    accessToken: sandbox.whatsapp.accessToken,
    templateName: config.WHATSAPP_TEMPLATE,
    languageCode: config.WHATSAPP_LANGUAGE,
  });
}

function viberChannel(config: Config, sandbox: SandboxCarrier | null): MessageChannel | null {
  const endpoint = config.VIBER_AUTH_TOKEN
    ? { authToken: config.VIBER_AUTH_TOKEN, ...(config.VIBER_BASE_URL ? { baseUrl: config.VIBER_BASE_URL } : {}) }
    : sandbox
      ? { authToken: sandbox.viber.authToken, baseUrl: sandbox.viber.baseUrl }
      : null;
  return endpoint
    ? createViberSender({ ...endpoint, sender: config.VIBER_SENDER, ttlSeconds: config.VIBER_TTL_SECONDS })
    : null;
}

function voiceChannel(config: Config, sandbox: SandboxCarrier | null, sip: ChannelSip): MessageChannel | null {
  if (!voiceEnabled(config, sandbox !== null)) return null;
  return createVoiceChannel({
    caller: sip.caller,
    speech: new SpeechClips({ promptsDir: config.VOICE_PROMPTS_DIR ?? null }),
    callerId: config.VOICE_CALLER_ID ?? SANDBOX_VOICE_CALLER_ID,
    answerTimeoutMs: config.VOICE_ANSWER_TIMEOUT_MS,
    maxDialMs: config.SIP_MAX_DIAL_MS,
    maxCallMs: config.VOICE_MAX_CALL_MS,
    defaultLanguage: config.VOICE_LANGUAGE,
    timing: { listenMs: config.VOICE_LISTEN_MS, maxReplays: config.VOICE_MAX_REPLAYS },
    onError: sip.onError,
  });
}

function emailChannel(config: Config, sandbox: SandboxCarrier | null): MessageChannel | null {
  const relay = config.EMAIL_SMTP_HOST
    ? { host: config.EMAIL_SMTP_HOST, port: config.EMAIL_SMTP_PORT }
    : sandbox
      ? { host: sandbox.inbox.local.address, port: sandbox.inbox.local.port }
      : null;
  if (!relay) return null;
  return createEmailSender({
    ...relay,
    secure: config.EMAIL_SMTP_SECURE === "on",
    ...(config.EMAIL_SMTP_USER
      ? { auth: { user: config.EMAIL_SMTP_USER, pass: config.EMAIL_SMTP_PASSWORD ?? "" } }
      : {}),
    from: config.EMAIL_FROM,
    subject: config.EMAIL_SUBJECT,
  });
}
