/**
 * Bearer credentials: an application's API key (`fv_...`) for backends, or one verification's client token
 * (`ct_...`) for the app or browser of the person being verified.
 */
import type { FastifyRequest } from "fastify";
import { hashToken } from "../core/codes.js";
import type { Access } from "../core/verification-service.js";
import type { Services } from "../services.js";
import { HttpError } from "./errors.js";

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header || header.length > 512) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** Resolves the caller; throws 401 when there are no valid credentials. */
export async function requireAccess(request: FastifyRequest, services: Services): Promise<Access> {
  const token = bearer(request);
  if (!token) throw new HttpError({ code: "UNAUTHORIZED" });
  if (token.startsWith("ct_")) return { kind: "client", tokenHash: hashToken(token) };
  const applicationId = await services.apiKeys.resolve(token);
  if (!applicationId) throw new HttpError({ code: "UNAUTHORIZED" });
  return { kind: "application", applicationId };
}

/** Like requireAccess, but only an application's API key will do (client tokens get 403). */
export async function requireApplication(request: FastifyRequest, services: Services): Promise<string> {
  const access = await requireAccess(request, services);
  if (access.kind !== "application") {
    throw new HttpError({ code: "FORBIDDEN", message: "This operation needs an API key, not a client token." });
  }
  return access.applicationId;
}
