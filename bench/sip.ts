/**
 * `npm run bench:sip`: how fast our flash-call path places calls, against how fast SIPp does on the same machine.
 *
 * Ours: the flash-call channel, the trunk layer and the trunk's UAC worker (sip-step.ts) against a SIPp handset
 * that rings and answers our CANCEL with 487, one step per rate; a fresh handset per step, so its counters are the
 * step's. Then SIPp against SIPp on the same call flow (sipp-ceiling.ts). It prints each step, the highest clean rate
 * of each, their ratio and the commands.
 *
 * Flags: --rates 2000,4000 --seconds 5 --sipp-rates 10000,20000 --sipp-seconds 5 --repeat 3 --no-sipp. With
 * --repeat N a rate that did not run clean is tried again, up to N rounds, on both sides alike: on a machine shared
 * with other work, one disturbed round should not decide what the code can do. Every round is printed.
 * Profile our side with `npm run -s build && node --cpu-prof --cpu-prof-dir .bench/profiles dist/bench/sip.js`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startTrunkRouter, TrunkSchema } from "../src/sip/trunks/index.js";
import { freeUdpPort } from "../test/sipp/sipp-tools.js";
import { Children } from "./children.js";
import { cpuPercent, sampleCpu } from "./proc-stats.js";
import { machineInfo } from "./run-info.js";
import { type OurStep, ourStepClean, ourStepLine, runOurStep } from "./sip-step.js";
import {
  measureSippCeiling,
  readFinalStats,
  type SippCeiling,
  sippCeilingStep,
  startSipp,
  waitUntilBound,
} from "./sipp-ceiling.js";

const HANDSET_ADDRESS = "127.0.0.48";
const OUR_ADDRESS = "127.0.0.49";
const HANDSET_LINGER_MS = 1000;
const children = new Children();

interface Options {
  rates: number[];
  seconds: number;
  sippRates: number[];
  sippSeconds: number;
  sipp: boolean;
  repeat: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    rates: [2000, 4000, 6000, 8000, 10_000, 12_000],
    seconds: 5,
    sippRates: [10_000, 15_000, 20_000, 25_000],
    sippSeconds: 5,
    sipp: true,
    repeat: 1,
  };
  const list = (v: string | undefined) =>
    (v ?? "")
      .split(",")
      .map(Number)
      .filter((n) => n > 0);
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--rates") options.rates = list(argv[++i]);
    else if (flag === "--seconds") options.seconds = Number(argv[++i]);
    else if (flag === "--sipp-rates") options.sippRates = list(argv[++i]);
    else if (flag === "--sipp-seconds") options.sippSeconds = Number(argv[++i]);
    else if (flag === "--no-sipp") options.sipp = false;
    else if (flag === "--repeat") options.repeat = Math.max(1, Number(argv[++i]) || 1);
    else
      throw new Error(
        `unknown flag ${flag}; flags: --rates a,b --seconds n --sipp-rates a,b --sipp-seconds n --repeat n --no-sipp`,
      );
  }
  if (options.rates.length === 0 || !(options.seconds > 0)) throw new Error("--rates and --seconds must be positive");
  return options;
}

interface OurResult {
  step: OurStep;
  handsetCompleted: number;
  handsetFailed: number;
  clean: boolean;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const args = process.argv.slice(2).join(" ");
  const command = `npm run bench:sip${args ? ` -- ${args}` : ""}`;
  console.log(`command: ${command}`);
  for (const [k, v] of Object.entries(machineInfo())) console.log(`${k}: ${v}`);

  const handsetPort = await freeUdpPort(HANDSET_ADDRESS);
  const handsetArgs = [
    ...["-sf", resolve("test/sipp/uas-ring-cancel.xml"), "-i", HANDSET_ADDRESS, "-p", String(handsetPort)],
    ...["-bind_local", "-buff_size", "4194304", "-nostdin", "-trace_stat", "-stf", "handset.csv", "-timeout", "120s"],
  ];
  console.log(
    `\nours: flash-call channel -> trunk layer -> UAC worker (${OUR_ADDRESS}), ring time 0, ${options.seconds} s per rate`,
  );
  console.log(`  handset: sipp ${handsetArgs.join(" ")}`);
  const router = await startTrunkRouter({
    // One trunk and nowhere to fail over to: an overloaded step must not take it out of service for the next ones.
    trunks: [TrunkSchema.parse({ id: "bench", host: HANDSET_ADDRESS, port: handsetPort, breaker_failures: 1e9 })],
    localAddress: OUR_ADDRESS,
    t1Ms: 500,
    onError: (error) => console.error("trunk error:", error),
  });

  const ours: OurResult[] = [];
  try {
    for (const rate of options.rates.flatMap((r) => Array.from({ length: options.repeat }, () => r))) {
      if (ours.some((r) => r.step.rate === rate && r.clean)) continue;
      const dir = mkdtempSync(join(tmpdir(), "flashverify-bench-sip-"));
      const handset = startSipp(handsetArgs, dir, children, "SIPp handset");
      try {
        await waitUntilBound(HANDSET_ADDRESS, handsetPort, handset);
        const h0 = sampleCpu(handset.pid);
        const step = await runOurStep(router, rate, options.seconds);
        const h1 = sampleCpu(handset.pid);
        await sleep(HANDSET_LINGER_MS);
        handset.child.kill("SIGTERM");
        await handset.exit;
        const stats = readFinalStats(join(dir, "handset.csv"));
        const completed = stats?.successful ?? 0;
        const failed = stats?.failed ?? 0;
        ours.push({
          step,
          handsetCompleted: completed,
          handsetFailed: failed,
          clean: ourStepClean(step, completed, failed),
        });
        console.log(`  ${ourStepLine(step, completed, failed, cpuPercent(h0, h1))}`);
      } finally {
        if (handset.child.exitCode === null && handset.child.signalCode === null) handset.child.kill("SIGTERM");
        rmSync(dir, { recursive: true, force: true });
      }
      await sleep(500);
    }
  } finally {
    await router.close();
  }

  const sipp: SippCeiling = { skipped: null, version: null, handsetCommand: null, steps: [] };
  for (const rate of options.sipp ? options.sippRates : []) {
    for (let round = 0; round < options.repeat && !sipp.skipped; round++) {
      await measureSippCeiling([rate], options.sippSeconds, children, sipp);
      if (sipp.steps.at(-1)?.clean) break;
    }
  }

  const bestOurs = ours.filter((r) => r.clean).sort((a, b) => b.step.rate - a.step.rate)[0];
  const ceiling = sippCeilingStep(sipp);
  console.log("\nresult");
  console.log(
    bestOurs
      ? `  ours: clean up to ${bestOurs.step.rate}/s offered, ${bestOurs.step.completedPerSecond} calls/s achieved${bestOurs === ours.at(-1) ? " (the highest rate tried)" : ""}`
      : "  ours: no rate ran clean",
  );
  if (!options.sipp) console.log("  SIPp ceiling: not measured (--no-sipp)");
  else if (sipp.skipped) console.log(`  ${sipp.skipped}`);
  else if (!ceiling) console.log("  SIPp-to-SIPp: no rate ran clean");
  else {
    console.log(`  SIPp-to-SIPp: clean up to ${ceiling.rate}/s offered, ${ceiling.callsPerSecond} calls/s achieved`);
    if (bestOurs) {
      const ratio = bestOurs.step.completedPerSecond / ceiling.callsPerSecond;
      console.log(`  ratio: ${bestOurs.step.completedPerSecond} / ${ceiling.callsPerSecond} = ${ratio.toFixed(2)}`);
    }
  }
  console.log(`  command: ${command}`);
}

const stop = () => {
  void children.stopAll().then(() => process.exit(130));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
main().then(
  () => children.stopAll().then(() => process.exit(0)),
  async (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    await children.stopAll();
    process.exit(1);
  },
);
