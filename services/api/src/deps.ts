import type { PauseSwitch } from "@gdr/core/control/pause";
import type { PrismaClient } from "@gdr/core/db/client";
import type { Logger } from "@gdr/core/log";
import type { Policy } from "@gdr/core/policy/index";
import type { RemediationQueues } from "@gdr/core/queues/queues";

/** What the API's routes need: narrow on purpose, so tests build it from real parts. */
export interface ApiDeps {
  prisma: PrismaClient;
  queues: RemediationQueues;
  /** The workers' kill switch (recorded in Postgres, copied to Redis; see @gdr/core/control/pause). */
  pause: PauseSwitch;
  policy: Policy;
  logger: Logger;
  /** Readiness checks for /readyz. */
  checks: Record<string, () => Promise<void>>;
}
