/**
 * Reading the durable event log: an application's events in global order (`/v1/events?after=`), one
 * verification's events, and the cursor an SSE stream starts from (`Last-Event-ID`).
 */
import { err, ok, type Result } from "../core/errors.js";
import type { OperatorStore } from "../core/operator-store.js";
import type { Store, StoredEvent } from "../core/ports.js";
import type { Verification } from "../core/types.js";
import type { Access, VerificationService } from "../core/verification-service.js";

export interface EventPage {
  events: StoredEvent[];
  /** true when more events follow the last one */
  hasMore: boolean;
}

export class EventLog {
  constructor(
    private readonly store: Store & { readonly operator: OperatorStore },
    private readonly verifications: VerificationService,
  ) {}

  /** An application's events after the event `after` (its id), oldest first. */
  async forApplication(applicationId: string, after: string | undefined, limit: number): Promise<Result<EventPage>> {
    let afterSeq = 0;
    if (after !== undefined) {
      const cursor = await this.store.findEvent(after);
      if (!cursor || cursor.applicationId !== applicationId) return err("EVENT_NOT_FOUND");
      afterSeq = cursor.seq;
    }
    const events = await this.store.listApplicationEvents(applicationId, afterSeq, limit + 1);
    return ok({ events: events.slice(0, limit), hasMore: events.length > limit });
  }

  /**
   * Where a stream of all of an application's events starts: after the event `after` (its id) when the client
   * resumes, else after the newest event so far. An id that is not the application's is an error, as in paging.
   */
  async applicationCursor(applicationId: string, after: string | undefined): Promise<Result<number>> {
    if (after === undefined) return ok(await this.store.operator.latestEventSeq(applicationId));
    const cursor = await this.store.findEvent(after);
    if (!cursor || cursor.applicationId !== applicationId) return err("EVENT_NOT_FOUND");
    return ok(cursor.seq);
  }

  /** Up to `limit` of an application's events after global order `afterSeq`. */
  applicationAfter(applicationId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.store.listApplicationEvents(applicationId, afterSeq, limit);
  }

  /** A verification's events, for its application or its client token. */
  async forVerification(id: string, access: Access): Promise<Result<StoredEvent[]>> {
    const found = await this.verifications.get(id, access);
    if (!found.ok) return found;
    return ok(await this.store.listEvents(id));
  }

  /**
   * Where a stream of verification `id` starts: after `lastEventId` when the client resumes (an id it cannot know
   * replays everything: at least once, never lost), else after the last event so far. The cursor is read before
   * the state, so an event committed in between is sent rather than missed.
   */
  async openStream(
    id: string,
    access: Access,
    lastEventId: string | undefined,
  ): Promise<Result<{ verification: Verification; afterSeq: number }>> {
    const known = await this.store.listEvents(id);
    let afterSeq = known.at(-1)?.seq ?? 0;
    if (lastEventId !== undefined) afterSeq = known.find((e) => e.id === lastEventId)?.seq ?? 0;
    const found = await this.verifications.get(id, access);
    if (!found.ok) return found;
    return ok({ verification: found.value, afterSeq });
  }

  after(id: string, afterSeq: number): Promise<StoredEvent[]> {
    return this.store.listEvents(id, afterSeq);
  }
}
