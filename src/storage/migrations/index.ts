/** Every migration, in order. Listed statically so the compiled server needs no migration folder at run time. */
import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./0001-initial.js";
import * as eventsOutbox from "./0002-events-outbox.js";
import * as fraud from "./0003-fraud.js";
import * as attemptTrunk from "./0004-attempt-trunk.js";
import * as workflows from "./0005-workflows.js";
import * as operator from "./0006-operator.js";
import * as postgresWrites from "./0007-postgres-writes.js";
import * as postgresWriteBatches from "./0008-postgres-write-batches.js";
import * as postgresEventsPlpgsql from "./0009-postgres-events-plpgsql.js";
import * as outboxClaim from "./0011-outbox-claim.js";
import * as retentionRefusalsReview from "./0012-retention-refusals-review.js";
import * as inboundPool from "./0013-inbound-pool.js";
import * as templates from "./0014-templates.js";
import * as sinch from "./0015-sinch.js";
import * as outboxClaimLookups from "./0016-outbox-claim-lookups.js";
import * as delivery from "./0017-delivery.js";
import * as outboxHotUpdates from "./0018-outbox-hot-updates.js";

const migrations: Record<string, Migration> = {
  "0001-initial": initial,
  "0002-events-outbox": eventsOutbox,
  "0003-fraud": fraud,
  "0004-attempt-trunk": attemptTrunk,
  "0005-workflows": workflows,
  "0006-operator": operator,
  "0007-postgres-writes": postgresWrites,
  "0008-postgres-write-batches": postgresWriteBatches,
  "0009-postgres-events-plpgsql": postgresEventsPlpgsql,
  "0011-outbox-claim": outboxClaim,
  "0012-retention-refusals-review": retentionRefusalsReview,
  "0013-inbound-pool": inboundPool,
  "0014-templates": templates,
  "0015-sinch": sinch,
  "0016-outbox-claim-lookups": outboxClaimLookups,
  "0017-delivery": delivery,
  "0018-outbox-hot-updates": outboxHotUpdates,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
