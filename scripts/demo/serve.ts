import { createToken } from "@gdr/core/auth/tokens";
import type { PrismaClient } from "@gdr/core/db/client";

/**
 * `npm run demo -- --serve`: after the report, the services stay up so that a person can look
 * around in the approval page and the dashboard. Resolves on the first SIGINT or SIGTERM; the
 * caller then stops everything the way it does without --serve. A second signal, while stopping,
 * is no longer caught and ends the process at once.
 */
export async function serveUntilSignal(prisma: PrismaClient, apiPort: number, databaseUrl: string): Promise<void> {
  const { token, identity } = await createToken(prisma, `demo-ui-${Date.now()}`, "approver");
  const base = `http://127.0.0.1:${apiPort}`;
  console.log(`\nServing until Ctrl-C (SIGINT) or SIGTERM; moto, ingest, the worker and the API keep running.`);
  console.log(`  approval page:   ${base}/ui/`);
  console.log(`  queue dashboard: ${base}/admin/queues  (HTTP Basic, any user name, an admin token as the password;`);
  console.log(`                   DATABASE_URL=${withoutPassword(databaseUrl)} npm run token -- create --role admin --name NAME)`);
  console.log(`  approver token "${identity.name}" (shown once; only its sha256 is stored):`);
  console.log(`  ${token}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const on = (received: NodeJS.Signals): void => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(received);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
  console.log(`\n${signal}: stopping`);
}

/** The database URL to paste into the token command, without a password the terminal would keep. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "PASSWORD";
  return parsed.toString();
}
