/**
 * The application's pre-send decision callback as the core sees it: a question about a planned start, asked
 * before anything is screened or sent, and its answer. The answer may choose other channels; the plan they make is
 * screened like a direct request (see `VerificationService.start`).
 */
import type { ChannelName, ClientInfo } from "./types.js";

/** What the application's pre-send decision callback is asked: the request, before anything is sent. */
export interface DecisionRequest {
  applicationId: string;
  verificationId: string;
  phone: string;
  country: string;
  /** the first step's channel */
  channel: ChannelName;
  /** every step's channel, in order */
  workflow: ChannelName[];
  reference: string | null;
  metadata: Record<string, unknown> | null;
  client: ClientInfo | null;
}

/** The answer, or the application's configured default when it did not answer in time. */
export interface Decision {
  decision: "allow" | "deny";
  /** the channels the application asks for instead, in order (default timeouts) */
  workflow?: string[] | undefined;
}

/** Asks an application whether to go ahead; resolves undefined when the application has no callback. */
export interface PreSendDecider {
  decide(request: DecisionRequest): Promise<Decision | undefined>;
}
