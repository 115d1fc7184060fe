/**
 * The virtual carrier: SIP handsets, an SMSC, WhatsApp's Cloud API, Viber and a mailbox, all on loopback. The
 * HTTP providers' delivery reports are handed over in-process through `receipt`, to the channels created later.
 */
import type { SandboxCarrier } from "../channels/registry.js";
import type { SandboxConfig } from "../config-slices.js";
import { VirtualHandsets } from "../sandbox/handsets.js";
import { VirtualInbox } from "../sandbox/inbox.js";
import { VirtualSmsc } from "../sandbox/smsc.js";
import { VirtualViber } from "../sandbox/viber.js";
import { VirtualWhatsApp } from "../sandbox/whatsapp.js";
import type { CloseStack } from "./close-stack.js";

export type Sandbox = { handsets: VirtualHandsets } & SandboxCarrier;

export async function startSandbox(
  config: SandboxConfig,
  stack: CloseStack,
  receipt: (channel: "whatsapp" | "viber") => (payload: Record<string, unknown>) => void,
): Promise<Sandbox> {
  const { address } = config;
  const started = <T extends { close(): Promise<void> }>(name: string, part: T): T => {
    stack.defer(`sandbox ${name}`, () => part.close());
    return part;
  };
  return {
    handsets: started("handsets", await VirtualHandsets.create({ address, port: config.sipPort })),
    smsc: started("SMSC", await VirtualSmsc.create({ address, port: config.smppPort })),
    whatsapp: started("WhatsApp", await VirtualWhatsApp.create({ address, port: 0, onStatus: receipt("whatsapp") })),
    viber: started("Viber", await VirtualViber.create({ address, port: 0, onStatus: receipt("viber") })),
    inbox: started("mailbox", await VirtualInbox.create({ address, port: config.smtpPort })),
  };
}
