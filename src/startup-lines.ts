/**
 * What the server prints once it listens, for the person who just started it: where the pages are, what its calls
 * reach (the sandbox, or which trunks) and how to get an API key. Plain lines on stderr, beside the JSON log.
 */

export interface StartupFacts {
  /** the listener's URL */
  url: string;
  /** where the virtual handsets listen, or null when the sandbox is off */
  sandbox: { address: string; port: number } | null;
  trunks: readonly { id: string; host: string; port?: number | undefined; transport: string }[];
  pools: readonly { id: string; size: number; codeLength: number }[];
  /** FLASHVERIFY_API_KEY is set, so a key exists already */
  apiKeyFromEnv: boolean;
}

/**
 * @example
 * startupLines({ url: "http://127.0.0.1:8080", sandbox: { address: "127.0.0.2", port: 5060 }, ... })
 * // ["flashverify is serving at http://127.0.0.1:8080", "  demo       http://127.0.0.1:8080/demo", ...]
 */
export function startupLines(f: StartupFacts): string[] {
  // 0.0.0.0 and :: are where it listens, not an address a browser can open.
  const base = f.url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=[:/]|$)/, "//127.0.0.1");
  const lines = [`flashverify is serving at ${f.url}`];
  if (f.sandbox) lines.push(`  demo       ${base}/demo`);
  lines.push(`  dashboard  ${base}/dashboard (sign in with an API key)`);
  lines.push(`  API docs   ${base}/docs (OpenAPI document: ${base}/openapi.json)`);
  if (f.sandbox) {
    lines.push(
      `  carrier    sandbox: virtual handsets at sip:${f.sandbox.address}:${f.sandbox.port}, an SMSC and a ` +
        "mailbox on loopback; nothing leaves this machine (SANDBOX=off for real trunks)",
    );
  } else {
    const trunks = f.trunks.map((t) => `${t.id} (${t.transport} ${t.host}${t.port ? `:${t.port}` : ""})`);
    lines.push(`  carrier    trunks: ${trunks.join(", ")}`);
  }
  const pools = f.pools.map((p) => `${p.id} (${p.size} numbers, ${p.codeLength}-digit codes)`);
  lines.push(`  caller IDs ${pools.length > 0 ? pools.join(", ") : "no pool"}`);
  lines.push(
    f.apiKeyFromEnv
      ? "  API key    FLASHVERIFY_API_KEY is registered for the default application"
      : "  API key    create one with: npm run -s flashverify -- keys create  (or set FLASHVERIFY_API_KEY)",
  );
  return lines;
}
