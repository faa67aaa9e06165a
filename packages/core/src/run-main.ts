import { ConfigError } from "./config/parse.js";
import { StartupError } from "./startup.js";

/**
 * Runs a service's start-up. Problems that are the operator's to fix end the process with exit
 * code 2: configuration and policy problems as a plain list, a dependency that failed its
 * start-up check (see startup.ts) as one line naming it and what to do. Anything else is a crash
 * with a stack (exit 1).
 */
export function runMain(name: string, start: () => Promise<void>): void {
  start().catch((err: unknown) => {
    if (err instanceof StartupError) {
      process.stderr.write(`${name}: cannot start: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof ConfigError || (err instanceof Error && err.name === "PolicyError")) {
      process.stderr.write(`${name}: cannot start.\n${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${name}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
