import type { PauseSwitch } from "@gdr/core/control/pause";
import type { PrismaClient } from "@gdr/core/db/client";
import type { Logger } from "@gdr/core/log";
import type { Notifier } from "@gdr/core/notify/index";
import type { Policy } from "@gdr/core/policy/index";
import type { RemediationQueues } from "@gdr/core/queues/queues";
import type { Registry } from "prom-client";

/** What the API's routes need: narrow on purpose, so tests build it from real parts. */
export interface ApiDeps {
  prisma: PrismaClient;
  queues: RemediationQueues;
  /** The workers' kill switch (recorded in Postgres, copied to Redis; see @gdr/core/control/pause). */
  pause: PauseSwitch;
  /** The routing policy; its accounts.allow is checked again before approve, retry and release. */
  policy: Policy;
  logger: Logger;
  /**
   * Tells people about refused decisions (an account taken off the allow list). The server always
   * gives one (with no channel configured, events go nowhere); absent, as in tools that only build
   * the app, a refusal is in the audit log only.
   */
  notifier?: Notifier;
  /** The API's base URL as people reach it: notifications link to `${publicUrl}/ui/#<id>`. */
  publicUrl?: string;
  /** The registry /metrics serves (the server shares it with the notifier); a fresh one if unset. */
  registry?: Registry;
  /** Readiness checks for /readyz. */
  checks: Record<string, () => Promise<void>>;
}
