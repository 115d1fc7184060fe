#!/usr/bin/env node
/**
 * `flashverify firewall` without the verification server: the same commands, loading only the firewall's modules
 * (an operator's firewall host needs nothing else). `flashverify firewall ...` and `node dist/src/firewall/bin.js ...`
 * are the same program.
 */
import { firewallCommand } from "./cli.js";

firewallCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof TypeError ? error.message : error);
    process.exit(1);
  },
);
