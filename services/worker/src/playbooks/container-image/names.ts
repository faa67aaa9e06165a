// The names this playbook writes into records (step rows, plans, containment) and the identifier
// patterns it adds to core's for what it reads back from ECS and ECR.
import type { IdentifierPattern } from "../kit/index.js";

export const STEP = {
  resolveImage: "resolve-image",
  findUsers: "find-users",
  scanImage: "scan-image",
  removeImage: "remove-image",
} as const;

// ECR repository names: lowercase components joined by '/', 2 to 256 characters (ECR API
// Reference, CreateRepository repositoryName).
export const ECR_REPOSITORY_NAME: IdentifierPattern = {
  label: "an ECR repository name",
  regex: /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/,
};

// arn:<partition>:ecs:<region>:<account>:service/[<cluster>/]<name>: recorded and shown in the
// plan only, never passed to a changing call.
export const ECS_SERVICE_ARN: IdentifierPattern = {
  label: "an ECS service ARN",
  regex: /^arn:aws(?:-[a-z-]+)?:ecs:[a-z]{2,4}(?:-[a-z]{2,10}){1,2}-[0-9]{1,2}:[0-9]{12}:service\/(?:[A-Za-z0-9_-]{1,255}\/)?[A-Za-z0-9_-]{1,255}$/,
};
