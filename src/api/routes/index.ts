/** Every route of the API, in one explicit list. */
import type { RouteRegistration } from "../route-kit.js";
import { registerHealth } from "./health.js";
import { registerSandboxPhones } from "./sandbox-phones.js";
import { registerCancelVerification } from "./v1/verifications-cancel.js";
import { registerCheckVerification } from "./v1/verifications-check.js";
import { registerGetVerification } from "./v1/verifications-get.js";
import { registerStartVerification } from "./v1/verifications-start.js";

export const routes: RouteRegistration[] = [
  registerHealth,
  registerStartVerification,
  registerCheckVerification,
  registerGetVerification,
  registerCancelVerification,
  registerSandboxPhones,
];
