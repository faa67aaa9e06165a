// Reading a finding document the way a test states what the code under test must derive from it:
// straight from the document, never through the parser.
import type { JsonObject, JsonValue } from "@gdr/samples/findings";

export function findingIdOf(detail: JsonObject): string {
  const id = detail["id"];
  if (typeof id !== "string") throw new Error("finding has no id");
  return id;
}

/** Reads a value out of a finding by path (undefined when the path is absent). */
export function at(value: JsonValue | undefined, ...path: (string | number)[]): JsonValue | undefined {
  let node = value;
  for (const key of path) {
    if (Array.isArray(node)) node = node[Number(key)];
    else if (typeof node === "object" && node !== null) node = node[String(key)];
    else return undefined;
  }
  return node;
}

export function stringAt(value: JsonValue | undefined, ...path: (string | number)[]): string {
  const found = at(value, ...path);
  if (typeof found !== "string") throw new Error(`fixture has no string at ${path.join(".")}`);
  return found;
}

/**
 * The resource key ingest must derive from a finding, read from the finding itself (DESIGN:
 * instance id; cluster/namespace/pod; task ARN; container id; access key id).
 */
export function fixtureResourceKey(detail: JsonObject): string {
  const resource = at(detail, "resource");
  switch (stringAt(resource, "resourceType")) {
    case "Instance":
      return stringAt(resource, "instanceDetails", "instanceId");
    case "EKSCluster": {
      const pod = at(resource, "kubernetesDetails", "kubernetesWorkloadDetails");
      return `${stringAt(resource, "eksClusterDetails", "name")}/${stringAt(pod, "namespace")}/${stringAt(pod, "name")}`;
    }
    case "ECSCluster":
      return stringAt(resource, "ecsClusterDetails", "taskDetails", "arn");
    case "Container":
      return stringAt(resource, "containerDetails", "id");
    case "AccessKey":
      return stringAt(resource, "accessKeyDetails", "accessKeyId");
    default:
      throw new Error(`no resource key for ${stringAt(resource, "resourceType")}`);
  }
}
