/**
 * The dashboard's API access: the operator's API key is kept in sessionStorage (gone when the tab closes) and sent
 * as `Authorization: Bearer`, like any backend's. Errors arrive as the API's one error shape.
 */
import { FlashverifyError, type LiveEvent, readEvents } from "../../sdk/src/client.js";

const KEY = "flashverify.dashboard.key";

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  save: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

/** Told when the API refuses the key (revoked, or wrong): the app returns to the login form. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(listener: () => void): void {
  onUnauthorized = listener;
}

// biome-ignore lint/suspicious/noExplicitAny: the screens read the API's JSON field by field, as documented
export type Json = any;

export async function api(method: string, path: string, body?: unknown, key = session.key()): Promise<Json> {
  const response = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${key ?? ""}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 204) return null;
  const json = (await response.json().catch(() => ({}))) as Json;
  if (!response.ok) {
    if (response.status === 401) onUnauthorized();
    const error = json?.error ?? {};
    throw new FlashverifyError(response.status, error.code ?? "HTTP_ERROR", error.message ?? response.statusText, null);
  }
  return json;
}

/** The message to show for a failed call. */
export const errorText = (error: unknown): string =>
  error instanceof FlashverifyError ? `${error.message} (${error.code})` : String(error);

/**
 * Follows the application's live event stream, reconnecting after a drop from the last event seen, until `close`.
 * `onState` tells whether the stream is connected.
 */
export function followEvents(onEvent: (event: LiveEvent) => void, onState: (live: boolean) => void) {
  const controller = new AbortController();
  let last: string | null = null;
  const run = async () => {
    for (let attempt = 0; !controller.signal.aborted; attempt++) {
      try {
        const response = await fetch("/v1/events/stream", {
          headers: { authorization: `Bearer ${session.key() ?? ""}`, ...(last ? { "last-event-id": last } : {}) },
          signal: controller.signal,
        });
        if (response.status === 401) return onUnauthorized();
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        onState(true);
        attempt = 0;
        for await (const event of readEvents(response.body)) {
          if (event.id) last = event.id;
          onEvent(event);
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      onState(false);
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 10_000)));
    }
  };
  void run();
  return { close: () => controller.abort() };
}
