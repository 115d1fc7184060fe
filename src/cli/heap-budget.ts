/**
 * Keeps V8's heap within a budget without paying for it while the live data is small.
 *
 * After each full collection V8 lets the heap grow to a multiple of what survived, up to 4x on a machine with a
 * few GiB. A busy server with little live data (a few thousand verifications in flight) is best left there: fewer
 * full collections, and a start's p99 at 500/s of 17 ms instead of 37-45 with a fixed 10% (`npm run bench`). But
 * 100,000 live verifications at 4x is 400 MiB of heap. So after every full collection this sets V8's
 * `--heap-growing-percent` from what is live: V8's own choice while 4x the live heap fits the budget, else the
 * growth that reaches the budget, never less than 10%. Past the budget the heap still grows, by 10% at a time:
 * a budget is a goal, and a server that must keep its live data never fails for it.
 *
 * V8 reads the flag whenever it sets its next limit, i.e. at the end of each collection, so a change made here
 * applies from the next one. It is process-wide: the SIP worker thread's isolate follows it too.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics, setFlagsFromString } from "node:v8";

/** V8's largest growth factor, the one it uses on a machine with a few GiB of memory or more. */
const V8_MAX_FACTOR = 4;
/** The least growth ever asked for: below it, full collections come so often they cost more than they save. */
const MIN_PERCENT = 10;
const MAJOR = constants.NODE_PERFORMANCE_GC_MAJOR;

/** A "gc" performance entry: its detail says which collection it was. */
type GcEntry = PerformanceEntry & { detail?: { kind?: number } };

/** The growth to ask V8 for with `liveBytes` surviving a full collection; 0 leaves V8 its own choice. */
export function growingPercent(liveBytes: number, budgetBytes: number): number {
  if (liveBytes * V8_MAX_FACTOR <= budgetBytes) return 0;
  const percent = Math.floor((budgetBytes / liveBytes - 1) * 100);
  // Whole tens, so small changes of the live size don't reset the flag after every collection.
  return Math.max(MIN_PERCENT, Math.floor(percent / 10) * 10);
}

/** Starts following full collections; returns a function that stops it. */
export function startHeapBudget(budgetBytes: number): () => void {
  let current = -1;
  const apply = (liveBytes: number) => {
    const percent = growingPercent(liveBytes, budgetBytes);
    if (percent === current) return;
    current = percent;
    // 0 is the flag's default: V8's own choice.
    setFlagsFromString(`--heap-growing-percent=${percent}`);
  };
  apply(getHeapStatistics().used_heap_size);
  const observer = new PerformanceObserver((list) => {
    const full = list.getEntries().some((e) => (e as GcEntry).detail?.kind === MAJOR);
    if (full) apply(getHeapStatistics().used_heap_size);
  });
  observer.observe({ entryTypes: ["gc"] });
  return () => observer.disconnect();
}
