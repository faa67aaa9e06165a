// The rate buckets this playbook's calls take tokens from: all shared with other playbooks
// (kit/families.ts has the numbers and their sources). `responder` is ctx.startRemediation, the
// Instance remediation of a bridge or host task's EC2 host.
import type { ApiFamily } from "../../engine/step.js";
import type { BucketSpec } from "../../engine/limits/token-bucket.js";
import { EC2_READ, EC2_WRITE, ECS_READ, ECS_WRITE, ELBV2, RESPONDER, familiesOf } from "../kit/families.js";

export const ECS_TASK_FAMILIES: Readonly<Record<ApiFamily, BucketSpec>> = Object.freeze(
  familiesOf([ECS_READ, ECS_WRITE, EC2_READ, EC2_WRITE, ELBV2, RESPONDER]),
);
