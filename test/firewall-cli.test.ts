/**
 * `flashverify firewall` as an operator runs it: the real CLI in a child process, on files.
 * generate -> analyze (scores on stdout, refused rows on stderr with line numbers, --report, --html) -> evaluate.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "flashverify-firewall-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The firewall's own entry (src/firewall/bin.ts): `flashverify firewall` minus loading the server's modules. */
function cli(...args: string[]) {
  return run(["src/firewall/bin.ts", ...args]);
}

function run(args: string[]) {
  const child = spawnSync(process.execPath, ["--import", "./test/support/ts-register.mjs", ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe("flashverify firewall", { timeout: 60_000 }, () => {
  it("is a command of flashverify", () => {
    const usage = run(["src/cli/main.ts", "firewall"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage: flashverify firewall <command>");
  });

  const cdr = join(dir, "day.csv");
  const labels = join(dir, "day.labels.csv");

  it("generates a labelled day, and analyze scores it, refusing malformed rows by line number", () => {
    const gen = cli("generate", "--mix", "holdout", "--seed", "5", "--calls", "5000", "--out", cdr, "--labels", labels);
    expect(gen.code).toBe(0);
    const header = readFileSync(cdr, "utf8").split("\n")[0];
    expect(header).toBe("call_id,start,caller,callee,source,answered,ring_ms,talk_ms,sip_code");
    expect(readFileSync(labels, "utf8").split("\n")[0]).toBe("call_id,label,population");
    const rows = readFileSync(cdr, "utf8").trimEnd().split("\n").length - 1;
    appendFileSync(cdr, "bad1,2026-12-01T10:00:00Z,+442079412345,not-a-number,intl-1,0,1800,0,487\nbad2,2026-12-01\n");

    const report = join(dir, "report.csv");
    const html = join(dir, "report.html");
    const run = cli("analyze", cdr, "--report", report, "--html", html);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${cdr}:${rows + 2}: callee "not-a-number" is not E.164`);
    expect(run.stderr).toContain(`${cdr}:${rows + 3}: expected at least 9 fields, found 2`);
    expect(run.stderr).toContain("2 row(s) refused");
    const out = run.stdout.trimEnd().split("\n");
    expect(out[0]).toBe("call_id,flashcall_score,label");
    expect(out).toHaveLength(rows + 1);
    for (const line of out.slice(1)) expect(line).toMatch(/^[0-9a-z-]+,[01]\.\d{4},(flashcall|other)$/);
    expect(out.some((l) => l.endsWith(",flashcall"))).toBe(true);
    expect(readFileSync(report, "utf8").split("\n")[0]).toBe(
      "range,sender,calls,flagged,flagged_share,unbilled_minutes,revenue,currency,top_factor",
    );
    expect(readFileSync(html, "utf8")).toContain('<table id="ranges">');
  });

  it("evaluates against the labels, per population", () => {
    const run = cli("evaluate", cdr, labels);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^calls \d+: flash \d+, other \d+$/m);
    expect(run.stdout).toMatch(/^recall \d+\.\d{3}% \(\d+\/\d+\)$/m);
    expect(run.stdout).toMatch(/^ {2}flash-fixed +\d+ calls, flagged \d+/m);
    // As the proxy would have labelled them, at INVITE: the same calls, fewer caught (no outcome, less history).
    const live = cli("evaluate", cdr, labels, "--replay", "invite");
    expect(live.code).toBe(0);
    const caught = (out: string) => Number(/^recall [\d.]+% \((\d+)\//m.exec(out)?.[1]);
    expect(caught(live.stdout)).toBeLessThan(caught(run.stdout));
    expect(cli("evaluate", cdr, labels, "--replay", "later").code).toBe(2);
  });

  it("refuses a bad configuration file with the field at fault", () => {
    const config = join(dir, "bad.json");
    appendFileSync(config, JSON.stringify({ never_flag: ["999"] }));
    const run = cli("analyze", cdr, "--config", config);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("never_flag.0: a number prefix in E.164 form");
  });
});
