/**
 * `flashverify firewall proxy`: runs the proxy until SIGINT/SIGTERM, with Prometheus metrics on --metrics and one
 * JSON log line (pino) per flagged call that ended, with its score and factors.
 */
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { loadFirewallConfig } from "../config.js";
import { FirewallProxy } from "./proxy.js";
import { splitHostPort } from "./wire.js";

export async function runProxyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      listen: { type: "string" },
      "next-hop": { type: "string" },
      config: { type: "string" },
      metrics: { type: "string" },
    },
  });
  if (!values.listen || !values["next-hop"]) {
    console.error(
      "usage: flashverify firewall proxy --listen HOST:PORT --next-hop HOST:PORT [--config FILE] [--metrics HOST:PORT]",
    );
    return 2;
  }
  const log = pino({ name: "flashverify-firewall" });
  const listen = splitHostPort(values.listen, 5060);
  const proxy = await FirewallProxy.start({
    address: listen.host,
    port: listen.port,
    nextHop: splitHostPort(values["next-hop"], 5060),
    config: loadFirewallConfig(values.config),
    onCallEnd: (call, verdict) => {
      if (verdict.label !== "flashcall") return;
      log.info(
        {
          caller: call.caller,
          callee: call.callee,
          range: verdict.range,
          score: verdict.score,
          factors: verdict.factors,
          sender: verdict.sender,
        },
        "flash call",
      );
    },
  });
  proxy.metrics.collectProcessMetrics();
  const metrics = values.metrics ? splitHostPort(values.metrics, 9090) : null;
  const http = metrics
    ? createServer(async (req, res) => {
        if (req.url !== "/metrics") {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { "content-type": proxy.metrics.registry.contentType });
        res.end(await proxy.metrics.registry.metrics());
      }).listen(metrics.port, metrics.host)
    : null;
  log.info(
    { listen: proxy.local, nextHop: values["next-hop"], metrics: values.metrics ?? null },
    "firewall proxy listening (UDP and TCP)",
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  http?.close();
  await proxy.close();
  return 0;
}
