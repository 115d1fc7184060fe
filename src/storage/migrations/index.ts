/** Every migration, in order. Listed statically so the compiled server needs no migration folder at run time. */
import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./0001-initial.js";

const migrations: Record<string, Migration> = {
  "0001-initial": initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
