/**
 * The message channels, one line each: the channel's name and how it is built from the configuration (or, with
 * the sandbox on and nothing configured, pointed at the virtual carrier). A new channel is a folder beside these
 * and one line here.
 */
import type { Config } from "../config.js";
import type { EmailConfig, SmsConfig, ViberConfig, VoiceConfig, WhatsAppConfig } from "../config-slices.js";
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
import { createVoiceChannel, SpeechClips } from "./voice/index.js";
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

/** A channel from its slice of the configuration (null: not configured), or null. */
type Factory = (config: Config, sandbox: SandboxCarrier | null, sip: ChannelSip) => MessageChannel | null;

export const MESSAGE_CHANNELS = {
  sms: (config, sandbox) => smsChannel(config.sms, sandbox),
  whatsapp: (config, sandbox) => whatsappChannel(config.whatsapp, sandbox),
  viber: (config, sandbox) => viberChannel(config.viber, sandbox),
  email: (config, sandbox) => emailChannel(config.email, sandbox),
  voice: (config, _sandbox, sip) => voiceChannel(config.voice, sip),
  reverse_flashcall: (config) => createReverseFlashcallChannel(config.inbound),
} satisfies Record<string, Factory>;

export type MessageChannelName = keyof typeof MESSAGE_CHANNELS;

function smsChannel(sms: SmsConfig, sandbox: SandboxCarrier | null): MessageChannel | null {
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

function whatsappChannel(whatsapp: WhatsAppConfig | null, sandbox: SandboxCarrier | null): MessageChannel | null {
  if (!whatsapp) return null;
  const template = { templateName: whatsapp.templateName, languageCode: whatsapp.languageCode };
  if (whatsapp.account !== "sandbox") return createWhatsAppSender({ ...whatsapp.account, ...template });
  if (!sandbox) return null;
  return createWhatsAppSender({
    baseUrl: sandbox.whatsapp.baseUrl,
    phoneNumberId: "sandbox",
    accessToken: sandbox.whatsapp.accessToken,
    ...template,
  });
}

function viberChannel(viber: ViberConfig | null, sandbox: SandboxCarrier | null): MessageChannel | null {
  if (!viber) return null;
  const endpoint =
    viber.account !== "sandbox"
      ? viber.account
      : sandbox && { authToken: sandbox.viber.authToken, baseUrl: sandbox.viber.baseUrl };
  return endpoint && createViberSender({ ...endpoint, sender: viber.sender, ttlSeconds: viber.ttlSeconds });
}

function voiceChannel(voice: VoiceConfig | null, sip: ChannelSip): MessageChannel | null {
  if (!voice) return null;
  return createVoiceChannel({
    caller: sip.caller,
    speech: new SpeechClips({ promptsDir: voice.promptsDir }),
    callerId: voice.callerId,
    answerTimeoutMs: voice.answerTimeoutMs,
    maxDialMs: voice.maxDialMs,
    maxCallMs: voice.maxCallMs,
    defaultLanguage: voice.language,
    timing: voice.timing,
    onError: sip.onError,
  });
}

function emailChannel(email: EmailConfig | null, sandbox: SandboxCarrier | null): MessageChannel | null {
  if (!email) return null;
  const relay =
    email.relay !== "sandbox"
      ? email.relay
      : sandbox && { host: sandbox.inbox.local.address, port: sandbox.inbox.local.port };
  if (!relay) return null;
  const { secure, auth, from, subject } = email;
  return createEmailSender({ ...relay, secure, auth, from, subject });
}
