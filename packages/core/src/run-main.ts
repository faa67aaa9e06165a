import { ConfigError } from "./config/parse.js";

/**
 * Runs a service's start-up. Configuration and policy problems are the operator's to fix: they
 * are printed as a plain list and the process exits 2; anything else is a crash with a stack.
 */
export function runMain(name: string, start: () => Promise<void>): void {
  start().catch((err: unknown) => {
    if (err instanceof ConfigError || (err instanceof Error && err.name === "PolicyError")) {
      process.stderr.write(`${name}: cannot start.\n${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${name}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
