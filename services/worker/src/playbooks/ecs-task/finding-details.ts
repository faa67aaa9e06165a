// The finding fields this playbook reads besides the resource key, checked again with core's
// patterns (ingest checked them once; the stored finding is read back here, so check again).
import type { JsonObject } from "../../engine/step.js";
import { ECS_CLUSTER_ARN, ECS_CLUSTER_NAME } from "@gdr/core/findings/patterns";

function objectAt(value: unknown, key: string): Record<string, unknown> | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const found = (value as Record<string, unknown>)[key];
  return typeof found === "object" && found !== null && !Array.isArray(found) ? (found as Record<string, unknown>) : null;
}

/**
 * The cluster name the finding's resource.ecsClusterDetails names: from its ARN when valid, else
 * its name when valid; null when neither is.
 */
export function clusterOfFinding(finding: JsonObject): string | null {
  const details = objectAt(objectAt(finding, "resource"), "ecsClusterDetails");
  const arn = details?.["arn"];
  if (typeof arn === "string") {
    const name = ECS_CLUSTER_ARN.regex.exec(arn)?.groups?.["clusterName"];
    if (name !== undefined) return name;
  }
  const name = details?.["name"];
  return typeof name === "string" && ECS_CLUSTER_NAME.regex.test(name) ? name : null;
}
