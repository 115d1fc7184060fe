/**
 * What the harness reads from the servers' /metrics around a step. prom-client's event-loop delay histogram starts
 * again at every scrape, so a scrape just before a step and one just after it give that step's own percentiles: how
 * long work waited for the server's main thread, the part of start -> INVITE that is neither the network nor the
 * SIP thread.
 */

/** prom-client's default `eventLoopMonitoringPrecision`: each recorded delay includes this interval. */
const LAG_RESOLUTION_MS = 10;
const LAG_P99 = /^flashverify_nodejs_eventloop_lag_p99_seconds (\S+)$/m;

/**
 * The p99 of a server's event-loop delay since its previous scrape, ms, or NaN when /metrics did not answer (the
 * step's figures do not depend on it).
 */
export async function eventLoopDelayP99Ms(baseUrl: string): Promise<number> {
  try {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const match = LAG_P99.exec(await response.text());
    return match ? Math.max(0, Number(match[1]) * 1000 - LAG_RESOLUTION_MS) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
