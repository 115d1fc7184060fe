/**
 * `flashverify firewall <analyze|generate|evaluate|train|proxy>`: the operator-side tools. They read the firewall's
 * own configuration file (--config), never the verification server's environment.
 */

import { once } from "node:events";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { analyzeRecords, scoreLines } from "./analyze.js";
import { type Cdr, readCdrFile } from "./cdr.js";
import { loadFirewallConfig } from "./config.js";
import { generateTraffic, writeTraffic } from "./generator/generate.js";
import { MIXES } from "./generator/mixes.js";
import { runProxyCommand } from "./proxy/command.js";
import { rangeReport, reportLines } from "./report.js";
import { reportPage } from "./report-page.js";
import { evaluate, type Labelled, modelModule, trainModels } from "./train.js";

export const FIREWALL_USAGE = `usage: flashverify firewall <command>

  analyze <cdr.csv> [--config FILE] [--report FILE] [--html FILE]
        score call records: call_id,flashcall_score,label on stdout; refused rows on stderr with line numbers
  generate --out CDR.csv --labels LABELS.csv [--mix train|holdout] [--seed N] [--calls N] [--sipp FILE]
        generate a day of labelled traffic (CDR CSV + separate labels; --sipp: a SIPp injection file)
  evaluate <cdr.csv> <labels.csv> [--config FILE] [--replay invite|end]
        recall and false positives of the analyzer against labels, per population; --replay: of the proxy's
        labels instead (calls in start order, scored at INVITE or at their end on the history before them)
  train <cdr.csv> <labels.csv> [--config FILE] [--out FILE]
        fit the models and print them as src/firewall/default-model.ts
  proxy --listen HOST:PORT --next-hop HOST:PORT [--config FILE] [--metrics HOST:PORT]
        the real-time SIP proxy (UDP and TCP on the same port)`;

export async function firewallCommand(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "analyze":
      return analyze(rest);
    case "generate":
      return generate(rest);
    case "evaluate":
      return evaluateCommand(rest);
    case "train":
      return train(rest);
    case "proxy":
      return runProxyCommand(rest);
  }
  console.error(FIREWALL_USAGE);
  return 2;
}

/** Reads a CDR file into memory, printing each refused row to stderr. */
async function readRecords(path: string): Promise<{ records: Cdr[]; refused: number }> {
  const records: Cdr[] = [];
  const { refused } = await readCdrFile(
    path,
    (r) => records.push(r),
    (e) => console.error(`${path}:${e.line}: ${e.message}`),
  );
  return { records, refused };
}

async function analyze(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: "string" }, report: { type: "string" }, html: { type: "string" } },
  });
  const path = positionals[0];
  if (!path) return usage();
  const config = loadFirewallConfig(values.config);
  const { records, refused } = await readRecords(path);
  const analysis = analyzeRecords(records, config);
  await writeLinesTo(process.stdout, scoreLines(analysis));
  if (values.report || values.html) {
    const report = rangeReport(analysis, config);
    if (values.report) await writeLinesTo(createWriteStream(values.report), reportLines(report), true);
    if (values.html) writeFileSync(values.html, reportPage(report));
  }
  if (refused) console.error(`${refused} row(s) refused`);
  return refused ? 1 : 0;
}

async function generate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      mix: { type: "string", default: "train" },
      seed: { type: "string", default: "1" },
      calls: { type: "string", default: "100000" },
      out: { type: "string" },
      labels: { type: "string" },
      sipp: { type: "string" },
    },
  });
  const mix = MIXES[values.mix];
  const seed = Number(values.seed);
  const calls = Number(values.calls);
  if (!mix || !values.out || !values.labels || !Number.isInteger(seed) || !Number.isInteger(calls) || calls < 1) {
    return usage();
  }
  const traffic = generateTraffic({ mix, seed, calls });
  await writeTraffic(traffic, values.out, values.labels);
  if (values.sipp) {
    const { sippInjection } = await import("./generator/sipp-injection.js");
    writeFileSync(values.sipp, sippInjection(traffic));
  }
  console.error(`${traffic.length} calls (mix ${mix.name}, seed ${seed}) -> ${values.out}, labels -> ${values.labels}`);
  return 0;
}

async function readLabelled(cdrPath: string, labelsPath: string): Promise<Labelled[]> {
  const { records } = await readRecords(cdrPath);
  const labels = new Map<string, [boolean, string]>();
  for (const line of readFileSync(labelsPath, "utf8").split("\n").slice(1)) {
    const [id, label, population] = line.split(",");
    if (id) labels.set(id, [label === "flashcall", population ?? ""]);
  }
  return records.map((cdr) => {
    const l = labels.get(cdr.callId);
    if (!l) throw new TypeError(`${labelsPath}: no label for call ${cdr.callId}`);
    return { cdr, flash: l[0], population: l[1] };
  });
}

async function evaluateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: "string" }, replay: { type: "string" } },
  });
  const [cdrPath, labelsPath] = positionals;
  const replay = values.replay ?? null;
  if (!cdrPath || !labelsPath || (replay !== null && replay !== "invite" && replay !== "end")) return usage();
  const e = evaluate(await readLabelled(cdrPath, labelsPath), loadFirewallConfig(values.config), undefined, replay);
  console.log(`calls ${e.calls}: flash ${e.flash}, other ${e.other}`);
  console.log(`recall ${(e.recall * 100).toFixed(3)}% (${e.truePositives}/${e.flash})`);
  console.log(
    `false positives ${(e.falsePositiveShare * 100).toFixed(4)}% of non-flash calls (${e.falsePositives}/${e.other})`,
  );
  for (const [p, s] of Object.entries(e.populations).sort()) {
    console.log(
      `  ${p.padEnd(18)} ${String(s.calls).padStart(8)} calls, flagged ${s.flagged} (${((s.flagged / s.calls) * 100).toFixed(3)}%)`,
    );
  }
  return 0;
}

async function train(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: "string" }, out: { type: "string" } },
  });
  const [cdrPath, labelsPath] = positionals;
  if (!cdrPath || !labelsPath) return usage();
  const models = trainModels(await readLabelled(cdrPath, labelsPath), loadFirewallConfig(values.config));
  const text = modelModule(models, `\`flashverify firewall train ${positionals.map((p) => basename(p)).join(" ")}\``);
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  return 0;
}

function usage(): number {
  console.error(FIREWALL_USAGE);
  return 2;
}

/** Writes lines in large chunks, waiting for the stream to drain (stdout may be a slow pipe). */
async function writeLinesTo(out: NodeJS.WritableStream, lines: Iterable<string>, end = false): Promise<void> {
  let chunk = "";
  for (const line of lines) {
    chunk += `${line}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  if (end) {
    out.end(chunk);
    await once(out, "finish");
  } else if (chunk && !out.write(chunk)) await once(out, "drain");
}
