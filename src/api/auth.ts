/**
 * Bearer credentials: an application's API key (`fv_...`) for backends, or one verification's client token
 * (`ct_...`) for the app or browser of the person being verified. They are checked in an `onRequest` hook, before
 * the body is read, so a request without valid credentials learns nothing from validation errors.
 */
import type { FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { isOperator } from "../core/applications.js";
import { hashToken } from "../core/codes.js";
import type { Access } from "../core/verification-service.js";
import type { Services } from "../services.js";
import { HttpError } from "./errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** who is calling; set by the `authenticate` hook of routes that need credentials */
    access: Access | null;
    /** the id of the API key that called (for audit records); null with a client token */
    apiKeyId: string | null;
  }
}

/** The request's bearer credential, or undefined when it names none (or an oversized one). */
export function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header || header.length > 512) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

async function resolveAccess(
  request: FastifyRequest,
  services: Services,
  need: "application" | "any",
): Promise<Access> {
  const token = bearer(request);
  if (!token) throw new HttpError({ code: "UNAUTHORIZED" });
  if (token.startsWith("ct_")) {
    if (need === "application") {
      throw new HttpError({ code: "FORBIDDEN", message: "This operation needs an API key, not a client token." });
    }
    // A client token is bound to one verification: the one named in the URL.
    const { id } = request.params as { id?: string };
    const tokenHash = hashToken(token);
    if (!id || !services.verifications.isClientToken(id, tokenHash)) throw new HttpError({ code: "UNAUTHORIZED" });
    return { kind: "client", tokenHash };
  }
  const key = await services.apiKeys.identify(token);
  if (!key) throw new HttpError({ code: "UNAUTHORIZED" });
  request.apiKeyId = key.keyId;
  return { kind: "application", applicationId: key.applicationId };
}

/**
 * The `onRequest` hook of a route that needs credentials: an application's API key, or (`any`) also the client
 * token of the verification in the URL.
 */
export function authenticate(services: Services, need: "application" | "any"): onRequestAsyncHookHandler {
  return async (request) => {
    request.access = await resolveAccess(request, services, need);
  };
}

/** The caller of a route guarded by `authenticate`. */
export function accessOf(request: FastifyRequest): Access {
  if (!request.access) throw new HttpError({ code: "UNAUTHORIZED" });
  return request.access;
}

/** The application of a route guarded by `authenticate(services, "application")`. */
export function applicationOf(request: FastifyRequest): string {
  const access = accessOf(request);
  if (access.kind !== "application") throw new HttpError({ code: "FORBIDDEN" });
  return access.applicationId;
}

/** The API key of a route guarded by `authenticate(services, "application")`: who asked, for audit records. */
export function apiKeyOf(request: FastifyRequest): string {
  applicationOf(request);
  if (!request.apiKeyId) throw new HttpError({ code: "UNAUTHORIZED" });
  return request.apiKeyId;
}

/** The application of a route that only the operator's keys (the default application's) may use. */
export function operatorOf(request: FastifyRequest): string {
  const applicationId = applicationOf(request);
  if (!isOperator(applicationId)) {
    throw new HttpError({
      code: "FORBIDDEN",
      message: "Only keys of the operator's (default) application may do this.",
    });
  }
  return applicationId;
}
