// How far the hunt goes before it stops and asks a person. An image in use is removed only on a
// complete list of its users: acting on part of one would stop some tasks and leave others
// running the compromised image. Past a bound the remediation escalates with the count it saw.
// The defaults keep one hunt within a few minutes of the ecs-read bucket (kit/families.ts).
import { EscalateRemediation } from "../kit/index.js";

export interface HuntBounds {
  clusters: number;
  /** Tasks described, over every cluster. */
  tasks: number;
  /** ACTIVE task definitions described. */
  taskDefinitions: number;
  /** Services described, over every cluster. */
  services: number;
}

export const DEFAULT_BOUNDS: Readonly<HuntBounds> = Object.freeze({ clusters: 100, tasks: 2000, taskDefinitions: 1000, services: 1000 });

/** Throws when `count` passes the bound for `what`. */
export function within(bounds: HuntBounds, what: keyof HuntBounds, count: number): void {
  if (count <= bounds[what]) return;
  const reason =
    `hunt_too_large: the account has more ${what === "taskDefinitions" ? "ACTIVE task definitions" : what} than this playbook searches (${bounds[what]}); ` +
    "removing the image on a partial list of its users could leave some running it, so a person must find and stop them";
  throw new EscalateRemediation(reason, reason);
}
