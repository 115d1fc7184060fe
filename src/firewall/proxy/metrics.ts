/** The proxy's Prometheus metrics (prom-client, as the server's), on a registry of its own. */
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly invites = new Counter({
    name: "flashverify_firewall_invites_total",
    help: "New call set-ups, by the policy's action",
    labelNames: ["action"] as const,
    registers: [this.registry],
  });
  readonly ended = new Counter({
    name: "flashverify_firewall_calls_ended_total",
    help: "Calls whose end the proxy saw, by the end-of-call label",
    labelNames: ["label"] as const,
    registers: [this.registry],
  });
  readonly failOpen = new Counter({
    name: "flashverify_firewall_fail_open_total",
    help: "Classifier failures; the call was passed untouched (invite) or its outcome not learnt (end)",
    labelNames: ["stage"] as const,
    registers: [this.registry],
  });
  readonly forwarded = new Counter({
    name: "flashverify_firewall_forwarded_total",
    help: "SIP messages forwarded",
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: "flashverify_firewall_dropped_total",
    help: "SIP messages dropped: unparseable, or a response not via us",
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "flashverify_firewall_errors_total",
    help: "Messages whose handling failed in the proxy itself",
    registers: [this.registry],
  });

  readonly addedLatency = new Histogram({
    name: "flashverify_firewall_invite_added_seconds",
    help: "Time the proxy adds to a new INVITE: received -> forwarded (or answered) handed to the kernel",
    buckets: [25e-6, 50e-6, 100e-6, 200e-6, 300e-6, 500e-6, 750e-6, 1e-3, 2e-3, 5e-3, 10e-3, 50e-3],
    registers: [this.registry],
  });

  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry, prefix: "flashverify_firewall_" });
  }

  /** A counter's current value (summed over labels). */
  async value(counter: Counter): Promise<number> {
    return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
  }
}
