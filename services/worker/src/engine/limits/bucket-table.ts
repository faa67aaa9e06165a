// The worker's token buckets: the union of the API families its playbooks declare (each with its
// default bucket), plus the engine's own, with the operator's EC2 overrides applied.
import { StartupError } from "@gdr/core/startup";
import type { BucketSpec, BucketSpecs } from "./token-bucket.js";

/**
 * The engine's own calls: GuardDuty's GetFindings, which the confirmation gate sends before any
 * playbook changes anything. GuardDuty publishes no request rate; a few calls per remediation.
 */
export const ENGINE_FAMILIES: BucketSpecs = Object.freeze({
  guardduty: Object.freeze({ capacity: 10, refillPerSecond: 2 }),
});

/** Whoever declares rate buckets: a playbook, or the engine itself. */
export interface FamilySource {
  name: string;
  families: BucketSpecs;
}

/** The operator's overrides (WORKER_EC2_*), each applied only when set. */
export interface BucketOverrides {
  WORKER_EC2_WRITE_PER_SECOND?: number | undefined;
  WORKER_EC2_WRITE_BURST?: number | undefined;
  WORKER_EC2_READ_PER_SECOND?: number | undefined;
  WORKER_EC2_READ_BURST?: number | undefined;
}

function same(a: BucketSpec, b: BucketSpec): boolean {
  return a.capacity === b.capacity && a.refillPerSecond === b.refillPerSecond;
}

function shown(spec: BucketSpec): string {
  return `${spec.refillPerSecond}/s burst ${spec.capacity}`;
}

function overridden(spec: BucketSpec | undefined, capacity: number | undefined, refillPerSecond: number | undefined): BucketSpec | undefined {
  if (!spec || (capacity === undefined && refillPerSecond === undefined)) return spec;
  return Object.freeze({ capacity: capacity ?? spec.capacity, refillPerSecond: refillPerSecond ?? spec.refillPerSecond });
}

/**
 * One bucket per family. Two sources declaring one family must agree on its bucket: the bucket is
 * the account's, shared by every playbook that calls the family, and two defaults would leave its
 * pace to whichever was read first; the disagreement stops the worker at start (exit 2). An
 * override of a family nobody declares changes nothing.
 */
export function bucketTable(sources: readonly FamilySource[], overrides: BucketOverrides = {}): BucketSpecs {
  const table: Record<string, BucketSpec> = {};
  const declaredBy = new Map<string, string>();
  for (const source of sources) {
    for (const [family, spec] of Object.entries(source.families)) {
      const earlier = table[family];
      if (earlier && !same(earlier, spec)) {
        throw new StartupError(
          "playbooks",
          `rate bucket "${family}" is declared twice with different defaults: ${declaredBy.get(family) ?? "?"} says ${shown(earlier)}, ${source.name} says ${shown(spec)}; a family's bucket is shared, so declare it once (or give it one spec)`,
        );
      }
      table[family] = Object.freeze({ ...spec });
      if (!declaredBy.has(family)) declaredBy.set(family, source.name);
    }
  }
  const write = overridden(table["ec2-write"], overrides.WORKER_EC2_WRITE_BURST, overrides.WORKER_EC2_WRITE_PER_SECOND);
  if (write) table["ec2-write"] = write;
  const read = overridden(table["ec2-read"], overrides.WORKER_EC2_READ_BURST, overrides.WORKER_EC2_READ_PER_SECOND);
  if (read) table["ec2-read"] = read;
  return Object.freeze(table);
}
