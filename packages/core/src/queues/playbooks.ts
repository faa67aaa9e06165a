import type { RemediationMode } from "../db/client.js";
import type { SupportedResourceType } from "../findings/types.js";

/** Every playbook the worker can run; each has its own BullMQ queue of the same name. */
export const PLAYBOOKS = ["instance", "ecs-task", "container-image", "container", "eks-pod", "access-key"] as const;
export type PlaybookName = (typeof PLAYBOOKS)[number];

/** The playbook a finding gets when no policy rule names one. */
export const DEFAULT_PLAYBOOK: Readonly<Record<SupportedResourceType, PlaybookName>> = Object.freeze({
  Instance: "instance",
  ECSCluster: "ecs-task",
  EKSCluster: "eks-pod",
  Container: "container",
  AccessKey: "access-key",
});

/** Modes as written in the policy file; `dry-run` is stored as `dry_run`. */
export const MODES = ["auto", "approval", "dry-run", "notify", "ignore"] as const;
export type PolicyMode = (typeof MODES)[number];
/** How a remediation runs, as stored: Prisma's enum. */
export type { RemediationMode };
