/**
 * The Sinch layer's storage port (SinchStore), the same on every store: credential pairs found by key while they
 * work, listed newest first, revoked once; and the newest verification of an application by reference or number.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/core/ports.js";
import type { SinchCredentialRecord, SinchStore } from "../../src/core/sinch-credentials.js";
import { verification } from "./store.js";

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

const pair = (id: string, overrides: Partial<SinchCredentialRecord> = {}): SinchCredentialRecord => ({
  id,
  applicationId: "app_default",
  applicationKey: `key-${id}`,
  secretSealed: `sealed-${id}`,
  label: "sinch",
  createdAt: T0,
  revokedAt: null,
  ...overrides,
});

export function runSinchStoreConformance(name: string, open: () => Promise<Store & { sinch: SinchStore }>): void {
  describe(`SinchStore conformance: ${name}`, () => {
    let store: Store & { sinch: SinchStore };
    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });
    afterEach(() => store.close());

    it("finds working pairs by key, lists them newest first, and revokes each once", async () => {
      await store.sinch.insertSinchCredential(pair("snk_1"));
      await store.sinch.insertSinchCredential(pair("snk_2", { createdAt: T0 + 1 }));
      await store.sinch.insertSinchCredential(pair("snk_3", { applicationId: "app_other", createdAt: T0 + 2 }));
      expect(await store.sinch.findSinchCredential("key-snk_1")).toEqual(pair("snk_1"));
      expect(await store.sinch.findSinchCredential("key-none")).toBeUndefined();
      expect((await store.sinch.listSinchCredentials("app_default")).map((p) => p.id)).toEqual(["snk_2", "snk_1"]);
      expect(await store.sinch.revokeSinchCredential("app_other", "snk_2", T0 + 5)).toBe(false);
      expect(await store.sinch.revokeSinchCredential("app_default", "snk_2", T0 + 5)).toBe(true);
      expect(await store.sinch.revokeSinchCredential("app_default", "snk_2", T0 + 6)).toBe(false);
      expect(await store.sinch.findSinchCredential("key-snk_2")).toBeUndefined();
      expect((await store.sinch.listSinchCredentials("app_default")).map((p) => p.id)).toEqual(["snk_1"]);
    });

    it("answers the newest verification of an application by reference and by number", async () => {
      const create = (id: string, at: number, overrides: Parameters<typeof verification>[1]) => {
        const v = verification(id, { createdAt: at, updatedAt: at, ...overrides });
        return store.createVerification({
          verification: v,
          lease: { poolId: "pool_a", cliKey: `k-${id}`, verificationId: id, expiresAt: v.expiresAt },
          events: [],
        });
      };
      await create("ver_a1", T0, { reference: "order-1", phone: "+447400150001" });
      await create("ver_a2", T0 + 10, { reference: "order-1", phone: "+447400150001" });
      await create("ver_b1", T0 + 20, { reference: "order-1", phone: "+447400150001", applicationId: "app_other" });
      await create("ver_a3", T0 + 30, { reference: "order-2", phone: "+447400150002" });
      expect(await store.sinch.latestVerificationId("app_default", { reference: "order-1" })).toBe("ver_a2");
      expect(await store.sinch.latestVerificationId("app_other", { reference: "order-1" })).toBe("ver_b1");
      expect(await store.sinch.latestVerificationId("app_default", { phone: "+447400150001" })).toBe("ver_a2");
      expect(await store.sinch.latestVerificationId("app_default", { phone: "+447400150002" })).toBe("ver_a3");
      expect(await store.sinch.latestVerificationId("app_default", { reference: "order-3" })).toBeUndefined();
    });
  });
}
