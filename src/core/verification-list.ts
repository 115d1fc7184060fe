/**
 * An application's verifications, newest first, filtered and paged by an opaque keyset cursor (creation time and
 * id of the last one shown), so pages stay stable while new verifications arrive at the top.
 */
import { err, ok, type Result } from "./errors.js";
import type { OperatorStore, VerificationQuery } from "./operator-store.js";
import type { Verification } from "./types.js";

export interface VerificationPage {
  verifications: Verification[];
  /** pass as `cursor` for the next (older) page; null on the last page */
  nextCursor: string | null;
}

const encode = (v: Verification) => Buffer.from(`${v.createdAt}:${v.id}`).toString("base64url");

function decode(cursor: string): VerificationQuery["before"] | undefined {
  const match = /^(\d{1,15}):(ver_[0-9a-z]{26})$/.exec(Buffer.from(cursor, "base64url").toString());
  return match ? { createdAt: Number(match[1]), id: match[2] as string } : undefined;
}

export async function listVerifications(
  store: OperatorStore,
  query: Omit<VerificationQuery, "before"> & { cursor?: string | undefined },
): Promise<Result<VerificationPage>> {
  const { cursor, ...filters } = query;
  const before = cursor === undefined ? undefined : decode(cursor);
  if (cursor !== undefined && !before) return err("INVALID_REQUEST", "The cursor is not one this API gave out.");
  const found = await store.listVerifications({ ...filters, before, limit: query.limit + 1 });
  const verifications = found.slice(0, query.limit);
  const last = verifications.at(-1);
  return ok({ verifications, nextCursor: found.length > query.limit && last ? encode(last) : null });
}
