/** The templates aggregate (TemplateStore) in Kysely, for SQLite and PostgreSQL alike: read rarely, cached by the book. */
import type { Kysely } from "kysely";
import { isLanguage, type Language } from "../core/templates/languages.js";
import type { TemplateChannel, TemplateContent } from "../core/templates/template.js";
import type { StoredTemplate, TemplateStore } from "../core/templates/template-book.js";
import type { Database } from "./schema.js";

export class TemplateQueries implements TemplateStore {
  constructor(private readonly db: Kysely<Database>) {}

  async listTemplates(applicationId: string): Promise<StoredTemplate[]> {
    const rows = await this.db
      .selectFrom("message_templates")
      .selectAll()
      .where("application_id", "=", applicationId)
      .orderBy("channel")
      .orderBy("language")
      .execute();
    return rows.flatMap((r) =>
      isLanguage(r.language)
        ? [
            {
              applicationId: r.application_id,
              language: r.language,
              content: JSON.parse(r.content) as TemplateContent,
              updatedAt: Number(r.updated_at),
              updatedBy: r.updated_by,
            },
          ]
        : [],
    );
  }

  async putTemplate(t: StoredTemplate): Promise<void> {
    const row = {
      application_id: t.applicationId,
      channel: t.content.channel,
      language: t.language,
      content: JSON.stringify(t.content),
      updated_at: t.updatedAt,
      updated_by: t.updatedBy,
    };
    await this.db
      .insertInto("message_templates")
      .values(row)
      .onConflict((oc) =>
        oc.columns(["application_id", "channel", "language"]).doUpdateSet({
          content: row.content,
          updated_at: row.updated_at,
          updated_by: row.updated_by,
        }),
      )
      .execute();
  }

  async deleteTemplate(applicationId: string, channel: TemplateChannel, language: Language): Promise<boolean> {
    const result = await this.db
      .deleteFrom("message_templates")
      .where("application_id", "=", applicationId)
      .where("channel", "=", channel)
      .where("language", "=", language)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async getDefaultLanguage(applicationId: string): Promise<Language | null> {
    const row = await this.db
      .selectFrom("application_languages")
      .select("default_language")
      .where("application_id", "=", applicationId)
      .executeTakeFirst();
    return row && isLanguage(row.default_language) ? row.default_language : null;
  }

  async setDefaultLanguage(applicationId: string, language: Language | null, now: number): Promise<void> {
    if (language === null) {
      await this.db.deleteFrom("application_languages").where("application_id", "=", applicationId).execute();
      return;
    }
    await this.db
      .insertInto("application_languages")
      .values({ application_id: applicationId, default_language: language, updated_at: now })
      .onConflict((oc) => oc.column("application_id").doUpdateSet({ default_language: language, updated_at: now }))
      .execute();
  }
}
