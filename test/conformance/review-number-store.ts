/**
 * The review numbers' storage port (ReviewNumberStore), the same on every store: one active number per application
 * and phone (a second is refused, even when both arrive at once), removal kept for the audit and listed on request,
 * one application's numbers invisible to another; and a verification of one reads back naming it.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/core/ports.js";
import type { ReviewNumberRecord, ReviewNumberStore } from "../../src/core/review-numbers.js";
import { verification } from "./store.js";

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

const record = (id: string, overrides: Partial<ReviewNumberRecord> = {}): ReviewNumberRecord => ({
  id,
  applicationId: "app_default",
  phone: "+447400555071",
  code: "246810",
  callerId: "+442079460123",
  label: "App Store review",
  createdAt: T0,
  createdBy: "key_admin",
  removedAt: null,
  removedBy: null,
  ...overrides,
});

type Opened = Store & { reviewNumbers: ReviewNumberStore };

export function runReviewNumberStoreConformance(name: string, open: () => Promise<Opened>): void {
  describe(`ReviewNumberStore conformance: ${name}`, () => {
    let store: Opened;
    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });
    afterEach(() => store.close());

    it("keeps one active number per application and phone, even when two are added at once", async () => {
      const outcomes = await Promise.all([
        store.reviewNumbers.insertReviewNumber(record("rvn_1")),
        store.reviewNumbers.insertReviewNumber(record("rvn_2", { code: "111111" })),
      ]);
      expect(outcomes.sort()).toEqual(["exists", "inserted"]);
      // The same phone in another application is another number.
      expect(await store.reviewNumbers.insertReviewNumber(record("rvn_3", { applicationId: "app_other" }))).toBe(
        "inserted",
      );
      const listed = await store.reviewNumbers.listReviewNumbers("app_default", false);
      expect(listed).toHaveLength(1);
      expect(["rvn_1", "rvn_2"]).toContain(listed[0]?.id);
    });

    it("removes once, keeps the removed number for the audit, and then takes the phone again", async () => {
      await store.reviewNumbers.insertReviewNumber(record("rvn_1"));
      expect(await store.reviewNumbers.removeReviewNumber("app_other", "rvn_1", "key_x", T0 + 5)).toBe(false);
      expect(await store.reviewNumbers.removeReviewNumber("app_default", "rvn_1", "key_admin2", T0 + 5)).toBe(true);
      expect(await store.reviewNumbers.removeReviewNumber("app_default", "rvn_1", "key_admin2", T0 + 6)).toBe(false);
      expect(await store.reviewNumbers.listReviewNumbers("app_default", false)).toEqual([]);
      expect(await store.reviewNumbers.listReviewNumbers("app_default", true)).toEqual([
        record("rvn_1", { removedAt: T0 + 5, removedBy: "key_admin2" }),
      ]);
      const again = record("rvn_2", { createdAt: T0 + 10, callerId: null });
      expect(await store.reviewNumbers.insertReviewNumber(again)).toBe("inserted");
      expect(await store.reviewNumbers.listReviewNumbers("app_default", false)).toEqual([again]);
      expect((await store.reviewNumbers.listReviewNumbers("app_default", true)).map((r) => r.id)).toEqual([
        "rvn_1",
        "rvn_2",
      ]);
    });

    it("reads a verification of a review number back naming it, through saves", async () => {
      const v = verification("ver_review", { reviewNumberId: "rvn_1" });
      expect(await store.createVerification({ verification: v, events: [], wakeAt: null })).toBe("created");
      const saved = { ...v, checksUsed: 1, version: v.version + 1 };
      expect(await store.saveVerification(saved, v.version, [], false)).toBe(true);
      expect((await store.getVerification("ver_review"))?.reviewNumberId).toBe("rvn_1");
      expect((await store.getVerification("ver_review"))?.checksUsed).toBe(1);
      const plain = verification("ver_plain");
      await store.createVerification({ verification: plain, events: [], wakeAt: null });
      expect(await store.getVerification("ver_plain")).not.toHaveProperty("reviewNumberId");
    });
  });
}
