/**
 * `npm run bench:firewall`: the firewall's figures.
 *
 * - Offline: rows per minute of `flashverify firewall analyze` (the built CLI, in a child process, output to
 *   /dev/null) on a generated day.
 * - Real time: SIPp placing generated calls (caller IDs and numbers from the holdout mix; each call INVITE, 100, 180,
 *   CANCEL, 200, 487, ACK) through the proxy to a SIPp handset, one step per rate; and the same calls through Kamailio
 *   forwarding statelessly (bench/kamailio-stateless.cfg) in the same run, for the ratio. The proxy is the built CLI
 *   (`flashverify firewall proxy`) in its own process; its added latency per INVITE (datagram received -> forwarded
 *   INVITE handed to the kernel, the classifier and the policy included) is read from its /metrics histogram before
 *   and after each step (so a percentile is a bucket's upper bound), and its CPU from /proc.
 *
 * Flags: --rates 2500,5000,10000  --seconds 5  --rows 1000000  --ring-ms 0  --no-kamailio  --no-offline
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { generateTraffic, writeTraffic } from "../src/firewall/generator/generate.js";
import { MIXES } from "../src/firewall/generator/mixes.js";
import { sippInjection } from "../src/firewall/generator/sipp-injection.js";
import { freeUdpPort, portTaken } from "../test/sipp/sipp-tools.js";
import { Children } from "./children.js";
import { cpuPercent, sampleCpu } from "./proc-stats.js";
import { readFinalStats, SIPP_MAX_FAILED_RATIO, startSipp, waitUntilBound } from "./sipp-ceiling.js";

const PROXY_ADDRESS = "127.0.0.165";
const HANDSET_ADDRESS = "127.0.0.166";
const KAMAILIO_ADDRESS = "127.0.0.167";
const CALLER_ADDRESS = "127.0.0.168";
const SCENARIOS = resolve("test/sipp");
const KAMAILIO_CONFIG = resolve("bench/kamailio-stateless.cfg");
const BUFFER = "4194304";

const { values } = parseArgs({
  options: {
    rates: { type: "string", default: "2500,5000,10000" },
    seconds: { type: "string", default: "5" },
    rows: { type: "string", default: "1000000" },
    "ring-ms": { type: "string", default: "0" },
    "no-kamailio": { type: "boolean", default: false },
    "no-offline": { type: "boolean", default: false },
  },
});
const rates = values.rates.split(",").map(Number);
const seconds = Number(values.seconds);
const children = new Children();
children.installExitHandlers(async () => 130);
const dir = mkdtempSync(join(tmpdir(), "flashverify-bench-firewall-"));

interface Step {
  via: "firewall" | "kamailio";
  rate: number;
  requested: number;
  successful: number;
  failed: number;
  handsetSuccessful: number;
  callsPerSecond: number;
  /** the proxy's own CPU over the step, % of one core (firewall only) */
  cpuPercent: number | null;
  /** added latency per INVITE in microseconds (firewall only) */
  p50: number | null;
  p99: number | null;
  p999: number | null;
  clean: boolean;
  command: string;
}

async function offline(rows: number): Promise<void> {
  const cdr = join(dir, "day.csv");
  const t0 = performance.now();
  const traffic = generateTraffic({ mix: MIXES.holdout!, seed: 9, calls: rows });
  await writeTraffic(traffic, cdr, join(dir, "day.labels.csv"));
  console.log(`generated ${traffic.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const args = ["dist/src/firewall/bin.js", "analyze", cdr, "--report", join(dir, "report.csv")];
  const load = loadavg()[0]?.toFixed(1);
  const start = performance.now();
  // GNU time reports the child's CPU and peak RSS: on a shared machine wall time alone says more about the others.
  const run = spawnSync("/usr/bin/time", ["-f", "%U %S %M", process.execPath, ...args], {
    stdio: ["ignore", openSync("/dev/null", "w"), "pipe"],
    encoding: "utf8",
  });
  const elapsed = (performance.now() - start) / 1000;
  const [user, system, rssKb] = (run.stderr ?? "").trim().split("\n").at(-1)?.split(" ").map(Number) ?? [];
  const cpu = (user ?? Number.NaN) + (system ?? Number.NaN);
  const perMinute = (s: number) => Math.round((traffic.length / s) * 60).toLocaleString("en");
  console.log(`offline: node ${args.join(" ")} > /dev/null   (1-minute load average before: ${load})`);
  console.log(
    `  exit ${run.status}: ${traffic.length} rows in ${elapsed.toFixed(2)} s = ${perMinute(elapsed)} rows/minute; CPU ${cpu.toFixed(2)} s = ${perMinute(cpu)} rows per CPU-minute; peak RSS ${Math.round((rssKb ?? 0) / 1024)} MiB`,
  );
}

async function startKamailio(nextHop: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freeUdpPort(KAMAILIO_ADDRESS);
  const args = ["-f", KAMAILIO_CONFIG, "-DD", "-E", "-m", "256", "-A", `NEXT_HOP="${nextHop}"`];
  args.push("-l", `udp:${KAMAILIO_ADDRESS}:${port}`, "-Y", dir, "-w", dir);
  const child = spawn("kamailio", args, { stdio: ["ignore", "ignore", "pipe"] });
  children.add(child, "kamailio");
  let log = "";
  child.stderr.on("data", (c: Buffer) => {
    log = (log + c.toString()).slice(-3000);
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 10_000;
  while (!(await portTaken(KAMAILIO_ADDRESS, port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`Kamailio did not start: ${log}`);
    await sleep(50);
  }
  console.log(`  kamailio ${args.join(" ")}`);
  return {
    port,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The built proxy in its own process, tagging calls scored 0.9 or more, with metrics on a port of their own. */
async function startProxy(nextHop: string) {
  const port = await freeUdpPort(PROXY_ADDRESS);
  const metricsPort = await freeUdpPort(PROXY_ADDRESS);
  const config = join(dir, "firewall.json");
  writeFileSync(config, JSON.stringify({ policy: [{ action: "tag", min_score: 0.9 }] }));
  const args = ["dist/src/firewall/bin.js", "proxy", "--listen", `${PROXY_ADDRESS}:${port}`, "--next-hop", nextHop];
  args.push("--config", config, "--metrics", `${PROXY_ADDRESS}:${metricsPort}`);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
  children.add(child, "firewall proxy");
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 10_000;
  while (!(await portTaken(PROXY_ADDRESS, port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("the firewall proxy did not start");
    await sleep(50);
  }
  console.log(`  node ${args.join(" ")}`);
  const metricsUrl = `http://${PROXY_ADDRESS}:${metricsPort}/metrics`;
  return {
    port,
    pid: child.pid as number,
    /** cumulative [upper bound in us, count] of the added-latency histogram */
    histogram: async (): Promise<(readonly [number, number])[]> => {
      let text = "";
      // The metrics listener opens just after the SIP socket: retry for a few seconds.
      for (let attempt = 0; !text; attempt++) {
        try {
          text = await (await fetch(metricsUrl)).text();
        } catch (error) {
          if (attempt >= 50) throw error;
          await sleep(100);
        }
      }
      const out: [number, number][] = [];
      for (const m of text.matchAll(/^flashverify_firewall_invite_added_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)) {
        out.push([m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Math.round(Number(m[1]) * 1e6), Number(m[2])]);
      }
      return out;
    },
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The upper bound of the bucket holding the p-th percentile of a cumulative histogram. */
function percentile(cumulative: readonly (readonly [number, number])[], p: number): number {
  const total = cumulative.at(-1)?.[1] ?? 0;
  const rank = Math.ceil((p / 100) * total);
  return cumulative.find(([, n]) => n >= rank)?.[0] ?? Number.POSITIVE_INFINITY;
}

async function step(via: Step["via"], rate: number, injection: string): Promise<Step> {
  const handsetPort = await freeUdpPort(HANDSET_ADDRESS);
  const callerPort = await freeUdpPort(CALLER_ADDRESS);
  // A late 100 Trying (Kamailio's two workers can reorder it behind the 180) or a retransmission is ignored, not
  // fatal to the call: the step measures forwarding, not SIPp's strictness about order.
  const common = [
    "-bind_local",
    "-buff_size",
    BUFFER,
    "-nostdin",
    "-trace_stat",
    "-default_behaviors",
    "all,-abortunexp",
  ];
  const handset = startSipp(
    [
      ...[
        "-sf",
        join(SCENARIOS, "firewall/uas-ring-cancel-stateless.xml"),
        "-i",
        HANDSET_ADDRESS,
        "-p",
        String(handsetPort),
      ],
      ...["-timeout", `${seconds + 30}s`, ...common, "-stf", "handset.csv"],
    ],
    dir,
    children,
    "SIPp handset",
  );
  await waitUntilBound(HANDSET_ADDRESS, handsetPort, handset);
  let target: string;
  let proxy: Awaited<ReturnType<typeof startProxy>> | null = null;
  let kamailio: Awaited<ReturnType<typeof startKamailio>> | null = null;
  if (via === "firewall") {
    proxy = await startProxy(`${HANDSET_ADDRESS}:${handsetPort}`);
    target = `${PROXY_ADDRESS}:${proxy.port}`;
  } else {
    kamailio = await startKamailio(`sip:${HANDSET_ADDRESS}:${handsetPort}`);
    target = `${KAMAILIO_ADDRESS}:${kamailio.port}`;
  }
  const requested = Math.round(rate * seconds);
  const callerArgs = [
    ...[target, "-sf", join(SCENARIOS, "firewall/uac-injected.xml"), "-inf", injection],
    ...["-i", CALLER_ADDRESS, "-p", String(callerPort), "-r", String(rate), "-rp", "1000", "-m", String(requested)],
    ...["-timeout", `${seconds + 15}s`, "-timeout_error", ...common, "-stf", "caller.csv"],
  ];
  const before = proxy ? await proxy.histogram() : null;
  const cpu0 = proxy ? sampleCpu(proxy.pid) : null;
  const caller = startSipp(callerArgs, dir, children, "SIPp caller");
  await caller.exit;
  const cpu = proxy && cpu0 ? cpuPercent(cpu0, sampleCpu(proxy.pid)) : null;
  const after = proxy ? await proxy.histogram() : null;
  await sleep(1000);
  handset.child.kill("SIGTERM");
  await handset.exit;
  const c = readFinalStats(join(dir, "caller.csv"));
  const h = readFinalStats(join(dir, "handset.csv"));
  const latency = before && after ? after.map(([le, n], i) => [le, n - (before[i]?.[1] ?? 0)] as const) : null;
  const result: Step = {
    via,
    rate,
    requested,
    successful: c?.successful ?? 0,
    failed: c?.failed ?? 0,
    handsetSuccessful: h?.successful ?? 0,
    callsPerSecond: c && c.elapsedSeconds > 0 ? Math.round(c.successful / c.elapsedSeconds) : 0,
    cpuPercent: cpu,
    p50: latency ? percentile(latency, 50) : null,
    p99: latency ? percentile(latency, 99) : null,
    p999: latency ? percentile(latency, 99.9) : null,
    clean: false,
    command: `sipp ${callerArgs.join(" ")}`,
  };
  result.clean = requested - Math.min(result.successful, result.handsetSuccessful) <= requested * SIPP_MAX_FAILED_RATIO;
  await proxy?.stop();
  await kamailio?.stop();
  return result;
}

function line(s: Step): string {
  const parts = [
    `${s.via.padEnd(8)} ${`${s.rate}/s`.padEnd(8)} successful ${s.successful}/${s.requested}, failed ${s.failed}, handset ${s.handsetSuccessful}`,
    `achieved ${s.callsPerSecond} calls/s`,
  ];
  if (s.p99 !== null)
    parts.push(`added latency p50 ${s.p50} us, p99 ${s.p99} us, p99.9 ${s.p999} us`, `proxy CPU ${s.cpuPercent}%`);
  parts.push(s.clean ? "clean" : `NOT clean (> ${SIPP_MAX_FAILED_RATIO * 100}% failed)`);
  return parts.join(" | ");
}

async function main(): Promise<void> {
  console.log(
    `bench:firewall ${new Date().toISOString()} node ${process.version}, rates ${rates.join(",")}, ${seconds} s per step`,
  );
  if (!values["no-offline"]) await offline(Number(values.rows));
  const most = Math.max(...rates) * seconds;
  const traffic = generateTraffic({ mix: MIXES.holdout!, seed: 10, calls: most });
  const injection = join(dir, "calls.csv");
  writeFileSync(injection, sippInjection(traffic, Number(values["ring-ms"])));
  console.log(
    `real time: ${traffic.length} generated calls (holdout mix, seed 10), ring ${values["ring-ms"]} ms after the 180`,
  );
  const steps: Step[] = [];
  for (const rate of rates) {
    for (const via of values["no-kamailio"] ? (["firewall"] as const) : (["firewall", "kamailio"] as const)) {
      const s = await step(via, rate, injection);
      steps.push(s);
      console.log(`  ${s.command}`);
      console.log(`  ${line(s)}`);
    }
  }
  console.log("\nsummary");
  for (const s of steps) console.log(`  ${line(s)}`);
  for (const rate of rates) {
    const fw = steps.find((s) => s.via === "firewall" && s.rate === rate);
    const k = steps.find((s) => s.via === "kamailio" && s.rate === rate);
    if (fw && k && k.callsPerSecond > 0) {
      console.log(
        `  ${rate}/s: firewall/kamailio achieved calls/s = ${(fw.callsPerSecond / k.callsPerSecond).toFixed(2)}`,
      );
    }
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await children.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });
