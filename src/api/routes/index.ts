/** Every route of the API, in one explicit list. */

import { registerMessagelist } from "../compat/messagelist.js";
import { registerSinch } from "../compat/sinch/index.js";
import type { RouteRegistration } from "../route-kit.js";
import { registerDemo } from "./demo.js";
import { registerHealth } from "./health.js";
import { registerMetrics } from "./metrics.js";
import { registerSandboxCalls } from "./sandbox-calls.js";
import { registerSandboxPhones } from "./sandbox-phones.js";
import { registerApiKeys, registerApplications } from "./v1/api-keys.js";
import { registerDecisionCallback } from "./v1/decision-callback.js";
import { registerListEvents } from "./v1/events-list.js";
import { registerStreamEvents } from "./v1/events-stream.js";
import { registerAllowlist, registerBlocks } from "./v1/fraud-lists.js";
import { registerFraudPolicy } from "./v1/fraud-policy.js";
import { registerPools } from "./v1/pools.js";
import { registerReceipts } from "./v1/receipts.js";
import { registerReviewNumbers } from "./v1/review-numbers.js";
import { registerStats } from "./v1/stats.js";
import { registerTemplates } from "./v1/templates.js";
import { registerCancelVerification } from "./v1/verifications-cancel.js";
import { registerCheckVerification } from "./v1/verifications-check.js";
import { registerEraseVerification } from "./v1/verifications-erase.js";
import { registerGetVerification } from "./v1/verifications-get.js";
import { registerListVerifications } from "./v1/verifications-list.js";
import { registerNextStep } from "./v1/verifications-next.js";
import { registerReportDelivery } from "./v1/verifications-report.js";
import { registerStartVerification } from "./v1/verifications-start.js";
import { registerStreamVerification } from "./v1/verifications-stream.js";
import { registerWebhookDeliveries } from "./v1/webhook-deliveries.js";
import { registerWebhookEndpoints } from "./v1/webhook-endpoints.js";
import { registerWebPages } from "./web-pages.js";

export const routes: RouteRegistration[] = [
  registerHealth,
  registerMetrics,
  registerStartVerification,
  registerCheckVerification,
  registerGetVerification,
  registerListVerifications,
  registerCancelVerification,
  registerEraseVerification,
  registerNextStep,
  registerReportDelivery,
  registerReceipts,
  registerMessagelist,
  registerSinch,
  registerListEvents,
  registerStreamEvents,
  registerStreamVerification,
  registerWebhookEndpoints,
  registerWebhookDeliveries,
  registerDecisionCallback,
  registerTemplates,
  registerBlocks,
  registerAllowlist,
  registerReviewNumbers,
  registerFraudPolicy,
  registerStats,
  registerApplications,
  registerApiKeys,
  registerPools,
  registerSandboxPhones,
  registerSandboxCalls,
  registerDemo,
  registerWebPages,
];
