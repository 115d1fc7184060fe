/**
 * The templates port (TemplateStore) against each database it runs on: SQLite, and PostgreSQL where it answers
 * (mandatory in CI). The same promises on both: upsert per (application, channel, language), content kept as given,
 * deletes and default languages per application.
 */
import { describe, expect, it } from "vitest";
import type { KyselyStore } from "../src/storage/kysely-store.js";
import { openSqliteStore } from "../src/storage/sqlite.js";
import type { SqliteStore } from "../src/storage/sqlite-store.js";
import { openTestPostgresStore, postgresAvailable } from "./support/postgres.js";

type AnyStore = KyselyStore | SqliteStore;

function runTemplateStoreConformance(name: string, open: () => Promise<AnyStore>) {
  describe(`TemplateStore on ${name}`, () => {
    const withStore = async (body: (store: AnyStore) => Promise<void>) => {
      const store = await open();
      try {
        await store.migrate();
        for (const id of ["app_a", "app_b"]) await store.ensureApplication({ id, name: id, createdAt: 1 });
        await body(store);
      } finally {
        await store.close();
      }
    };

    it("keeps one template per application, channel and language, replacing it on a second save", () =>
      withStore(async (store) => {
        const sms = (body: string, at: number) => ({
          applicationId: "app_a",
          language: "es" as const,
          content: { channel: "sms" as const, body, androidAppHash: null, webOtpHost: "acme.example" },
          updatedAt: at,
          updatedBy: "key_1",
        });
        await store.templates.putTemplate(sms("Clave {code}", 10));
        await store.templates.putTemplate(sms("Tu clave {code} — ñ", 20));
        await store.templates.putTemplate({
          applicationId: "app_a",
          language: "ar",
          content: { channel: "email", subject: "رمز {app}", body: "{code}" },
          updatedAt: 30,
          updatedBy: "key_2",
        });
        const listed = await store.templates.listTemplates("app_a");
        expect(listed).toEqual([
          {
            applicationId: "app_a",
            language: "ar",
            content: { channel: "email", subject: "رمز {app}", body: "{code}" },
            updatedAt: 30,
            updatedBy: "key_2",
          },
          sms("Tu clave {code} — ñ", 20),
        ]);
        expect(await store.templates.listTemplates("app_b")).toEqual([]);
        expect(await store.templates.deleteTemplate("app_a", "sms", "es")).toBe(true);
        expect(await store.templates.deleteTemplate("app_a", "sms", "es")).toBe(false);
        expect((await store.templates.listTemplates("app_a")).map((t) => t.content.channel)).toEqual(["email"]);
      }));

    it("keeps each application's default language, and forgets it when set to none", () =>
      withStore(async (store) => {
        expect(await store.templates.getDefaultLanguage("app_a")).toBeNull();
        await store.templates.setDefaultLanguage("app_a", "de", 1);
        await store.templates.setDefaultLanguage("app_a", "fr", 2);
        expect(await store.templates.getDefaultLanguage("app_a")).toBe("fr");
        expect(await store.templates.getDefaultLanguage("app_b")).toBeNull();
        await store.templates.setDefaultLanguage("app_a", null, 3);
        expect(await store.templates.getDefaultLanguage("app_a")).toBeNull();
      }));
  });
}

runTemplateStoreConformance("SQLite", async () => openSqliteStore(":memory:"));
describe.skipIf(!postgresAvailable())("PostgreSQL", () => {
  runTemplateStoreConformance("PostgreSQL", openTestPostgresStore);
});
