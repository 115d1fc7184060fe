/** Small helpers shared by route files: the typed app, and unwrapping core results at the HTTP edge. */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Result } from "../core/errors.js";
import type { Services } from "../services.js";
import { HttpError } from "./errors.js";

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export type RouteRegistration = (app: App, services: Services) => void;

/** The value of a successful result; an error result leaves the handler as that API error. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new HttpError(result.error);
  return result.value;
}
