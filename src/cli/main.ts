#!/usr/bin/env node
/**
 * The `flashverify` command: serve | migrate | keys create | pool add | verify <phone> | firewall ....
 * Every subcommand reads the same configuration as the server.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config.js";
import { firewallCommand } from "../firewall/cli.js";
import { CliError } from "./cli-error.js";
import { keysCreate } from "./keys.js";
import { migrate } from "./migrate.js";
import { poolAdd } from "./pool.js";
import { serve } from "./serve.js";
import { verify } from "./verify.js";

const USAGE = `usage: flashverify <command>

  serve                         run the server (default)
  migrate                       apply database migrations and exit
  keys create [--app ID] [--label TEXT] [--sinch]
                                create an API key and print it (shown once); --sinch: a Sinch
                                credential pair for /verification/v1/, printed as "<key> <secret>"
  pool add --numbers LIST [--code-length N] [--countries LIST] [--name NAME] [--id ID]
                                add or replace a caller-ID pool (ranges like +4420794xxxxx)
  verify <phone> [--url URL] [--key KEY] [--timeout SECONDS]
                                run one verification against a running sandbox server and print each step
  firewall <analyze|generate|evaluate|train|proxy> ...
                                the operator-side flash-call firewall (see docs/firewall.md)

Configuration comes from the environment (see README): PORT, HOST, DATABASE_URL, FLASHVERIFY_API_KEY, SANDBOX, ...`;

async function main(argv: string[]): Promise<number> {
  const [command = "serve", ...rest] = argv;
  if (command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (command === "firewall") return firewallCommand(rest);
  const config = loadConfig();
  switch (command) {
    case "serve":
      return serve(config);
    case "migrate":
      return migrate(config);
    case "keys":
      if (rest[0] === "create")
        return keysCreate(config, parseArgs({ args: rest.slice(1), options: keysOptions }).values);
      break;
    case "pool":
      if (rest[0] === "add") return poolAdd(config, parseArgs({ args: rest.slice(1), options: poolOptions }).values);
      break;
    case "verify": {
      const parsed = parseArgs({ args: rest, options: verifyOptions, allowPositionals: true });
      const phone = parsed.positionals[0];
      if (!phone) break;
      return verify(config, phone, parsed.values);
    }
  }
  console.error(USAGE);
  return 2;
}

const keysOptions = { app: { type: "string" }, label: { type: "string" }, sinch: { type: "boolean" } } as const;
const poolOptions = {
  numbers: { type: "string" },
  "code-length": { type: "string" },
  countries: { type: "string" },
  name: { type: "string" },
  id: { type: "string" },
} as const;
const verifyOptions = { url: { type: "string" }, key: { type: "string" }, timeout: { type: "string" } } as const;

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    // Expected failures (configuration, arguments, the API's refusals) are one line; anything else is a fault.
    const expected = error instanceof ConfigError || error instanceof CliError || error instanceof TypeError;
    console.error(expected ? `flashverify: ${error.message}` : error);
    process.exit(1);
  },
);
