import { describe, expect, it } from "vitest";
import { Retention, type RetentionScope, type RetentionStore, redactedEventData } from "./retention.js";

const DAY_MS = 86_400_000;
const NOW = 1_800_000_000_000;

/** A store holding ended verifications by application and end time, redacting as asked. */
function storeOf(ended: Array<{ app: string; endedAt: number }>) {
  const rows = ended.map((r) => ({ ...r, redacted: false }));
  const calls: Array<{ scope: RetentionScope; before: number }> = [];
  const store: RetentionStore = {
    async redactEnded(scope, endedBefore, limit) {
      calls.push({ scope, before: endedBefore });
      const due = rows.filter(
        (r) =>
          !r.redacted &&
          r.endedAt < endedBefore &&
          ("applicationId" in scope ? r.app === scope.applicationId : !scope.exceptApplicationIds.includes(r.app)),
      );
      for (const r of due.slice(0, limit)) r.redacted = true;
      return Math.min(due.length, limit);
    },
    eraseVerification: async () => false,
  };
  return { store, rows, calls };
}

const retention = (store: RetentionStore, batch = 2) =>
  new Retention({
    store,
    clock: { now: () => NOW },
    days: { default: 30, applications: { app_short: 7 } },
    verifications: {
      get: async () => ({ ok: false, error: { code: "INTERNAL" } }),
      cancel: async () => ({ ok: false, error: { code: "INTERNAL" } }),
    },
    batch,
  });

describe("the retention job", () => {
  it("redacts each application's ended verifications past its own period, in batches until none are left", async () => {
    const { store, rows, calls } = storeOf([
      { app: "app_short", endedAt: NOW - 8 * DAY_MS },
      { app: "app_short", endedAt: NOW - 6 * DAY_MS },
      { app: "app_default", endedAt: NOW - 31 * DAY_MS },
      { app: "app_default", endedAt: NOW - 32 * DAY_MS },
      { app: "app_default", endedAt: NOW - 33 * DAY_MS },
      { app: "app_default", endedAt: NOW - 8 * DAY_MS },
    ]);
    expect(await retention(store).runOnce()).toBe(4);
    expect(rows.map((r) => r.redacted)).toEqual([true, false, true, true, true, false]);
    expect(calls[0]).toEqual({ scope: { applicationId: "app_short" }, before: NOW - 7 * DAY_MS });
    // The default covers every application without its own period; a full batch asks again.
    expect(calls.slice(1).map((c) => c.before)).toEqual([NOW - 30 * DAY_MS, NOW - 30 * DAY_MS]);
    expect(calls[1]?.scope).toEqual({ exceptApplicationIds: ["app_short"] });
    expect(await retention(store).runOnce()).toBe(0);
  });
});

describe("redactedEventData", () => {
  it("drops the personal fields of an event's data and keeps the rest", () => {
    const data = { phone: "+447400123456", country: "GB", channel: "sms", detail: "250 OK", provider_ids: ["m1"] };
    expect(JSON.parse(redactedEventData(JSON.stringify(data)) as string)).toEqual({ country: "GB", channel: "sms" });
    expect(redactedEventData(JSON.stringify({ channel: "flashcall", reason: "busy" }))).toBeNull();
  });
});
