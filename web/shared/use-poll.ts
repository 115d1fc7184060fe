/** Polls `read` every `intervalMs` while `key` is set and the tab is visible; the latest answer, or null. */
import { useEffect, useState } from "preact/hooks";

export function usePoll<T>(key: string | null, read: () => Promise<T>, intervalMs: number): T | null {
  const [value, setValue] = useState<T | null>(null);
  // `read` is a new function each render; `key` says when it reads something else.
  useEffect(() => {
    setValue(null);
    if (key === null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (document.visibilityState === "visible") {
        try {
          const next = await read();
          if (!stopped) setValue(next);
        } catch {
          // The next poll tries again; a demo's phone screen keeps what it showed.
        }
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key, intervalMs]);
  return value;
}
