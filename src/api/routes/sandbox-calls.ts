/**
 * POST /sandbox/phones/{e164}/calls: a virtual phone places a call. The virtual carrier delivers it to this server's
 * inbound listener as a trunk would (a real SIP INVITE from the carrier's address), so a reverse flash call can be
 * completed without a real phone. Registered only when the sandbox and the reverse flash call are on.
 */
import { z } from "zod";
import type { ReverseFlashcallChannel } from "../../channels/reverse-flashcall/index.js";
import { parseDestination } from "../../core/phone.js";
import { VirtualCaller } from "../../sandbox/phone-calls.js";
import { sendError } from "../errors.js";
import type { RouteRegistration } from "../route-kit.js";
import { ErrorView } from "../views.js";

const Placed = z.object({
  from: z.string().describe("the virtual phone's number: the caller ID the carrier delivered"),
  to: z.string(),
  sip_code: z.number().int().nullable().describe("the server's final response; null when none came"),
  reason: z.string().nullable(),
});

export const registerSandboxCalls: RouteRegistration = (app, services) => {
  const reverse = services.messageChannels.reverse_flashcall as ReverseFlashcallChannel | undefined;
  if (!services.sandbox || !reverse) return;
  let caller: Promise<VirtualCaller> | null = null;
  app.addHook("onClose", async () => {
    await (await caller?.catch(() => null))?.close();
  });
  app.post(
    "/sandbox/phones/:phone/calls",
    {
      schema: {
        summary: "A virtual phone calls a number (the reverse flash call's inbound number)",
        tags: ["sandbox"],
        params: z.object({ phone: z.string().min(1).max(64) }),
        body: z.object({ to: z.string().min(1).max(64).describe("the number to call, E.164") }).strict(),
        response: { 200: Placed, 400: ErrorView, 503: ErrorView },
      },
    },
    async (request, reply) => {
      const phone = parseDestination(request.params.phone);
      const to = /^\+[1-9][0-9]{6,14}$/.test(request.body.to) ? request.body.to : null;
      if (!phone || !to) return sendError(reply, { code: "INVALID_PHONE_NUMBER" });
      const target = reverse.local;
      if (!target) return sendError(reply, { code: "NOT_READY" });
      // A caller that failed to start is forgotten, so the next request tries again rather than fail the same way.
      caller ??= VirtualCaller.create({ address: services.config.SANDBOX_SIP_ADDRESS }).catch((error: unknown) => {
        caller = null;
        throw error;
      });
      const placed = await (await caller).call({ from: phone.e164, to, target });
      return { from: phone.e164, to, sip_code: placed.sipCode, reason: placed.reason };
    },
  );
};
