/**
 * Strict patterns for every identifier a finding can hand to an AWS call (or to a shell through SSM,
 * or to the Kubernetes API). Each is anchored, ASCII-only and bounded in length, so look-alike
 * Unicode (Cyrillic "і", fullwidth digits), whitespace, newlines and oversize values never match.
 *
 * JavaScript's `[0-9]` and `[a-z]` without the `u`/`i` flags are plain ASCII ranges, which is
 * what we rely on here. Patterns that capture parts (ARNs) use named groups.
 */

export interface IdentifierPattern {
  /** What the value should look like, for operator-facing messages. */
  readonly label: string;
  readonly regex: RegExp;
}

const pattern = (label: string, regex: RegExp): IdentifierPattern => ({ label, regex });

// Partitions AWS publishes in its endpoint metadata: aws, aws-cn, aws-us-gov, the ISO partitions
// (aws-iso, aws-iso-b, aws-iso-e, aws-iso-f) and the European Sovereign Cloud (aws-eusc).
const PARTITION_SRC = "aws(?:-cn|-us-gov|-iso(?:-[bef])?|-eusc)?";
// Region codes: <area>-<name>[-<name>]-<n>, e.g. us-east-1, ap-southeast-5, us-gov-west-1,
// us-iso-east-1, cn-northwest-1, eusc-de-east-1.
const REGION_SRC = "[a-z]{2,4}(?:-[a-z]{2,10}){1,2}-[0-9]{1,2}";
// AWS account ids: exactly 12 ASCII digits.
const ACCOUNT_SRC = "[0-9]{12}";
// The fixed prefix of every ARN this service reads: arn:<partition>:<service>:<region>:<account>:
const arnPrefix = (service: string): string =>
  `arn:(?<partition>${PARTITION_SRC}):${service}:(?<region>${REGION_SRC}):(?<account>${ACCOUNT_SRC}):`;

export const PARTITION = pattern("an AWS partition (aws, aws-cn, aws-us-gov, ...)", new RegExp(`^${PARTITION_SRC}$`));
export const REGION = pattern("an AWS region code such as us-east-1", new RegExp(`^${REGION_SRC}$`));
export const ACCOUNT_ID = pattern("a 12-digit AWS account id", new RegExp(`^${ACCOUNT_SRC}$`));

// GuardDuty finding ids and detector ids are 32 lowercase hex characters.
export const FINDING_ID = pattern("a GuardDuty finding id (32 lowercase hex characters)", /^[0-9a-f]{32}$/);

// Finding ARN: arn:<partition>:guardduty:<region>:<account>:detector/<detectorId>/finding/<findingId>
export const GUARDDUTY_FINDING_ARN = pattern(
  "a GuardDuty finding ARN (arn:<partition>:guardduty:<region>:<account>:detector/<id>/finding/<id>)",
  new RegExp(`^${arnPrefix("guardduty")}detector/[0-9a-f]{32}/finding/(?<findingId>[0-9a-f]{32})$`),
);

// EC2 resource ids: a type prefix and 8 (older resources) or 17 (current) lowercase hex characters.
export const INSTANCE_ID = pattern("an EC2 instance id (i- and 8 or 17 hex digits)", /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/);
export const SECURITY_GROUP_ID = pattern(
  "a security group id (sg- and 8 or 17 hex digits)",
  /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/,
);
export const NETWORK_INTERFACE_ID = pattern(
  "a network interface id (eni- and 8 or 17 hex digits)",
  /^eni-(?:[0-9a-f]{8}|[0-9a-f]{17})$/,
);
export const VPC_ID = pattern("a VPC id (vpc- and 8 or 17 hex digits)", /^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/);
export const SUBNET_ID = pattern(
  "a subnet id (subnet- and 8 or 17 hex digits)",
  /^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$/,
);
export const IMAGE_ID = pattern("an AMI id (ami- and 8 or 17 hex digits)", /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/);

// ECS cluster names: letters, digits, hyphens and underscores, up to 255 (ECS CreateCluster).
const ECS_NAME_SRC = "[A-Za-z0-9_-]{1,255}";
export const ECS_CLUSTER_NAME = pattern("an ECS cluster name", new RegExp(`^${ECS_NAME_SRC}$`));
// arn:<partition>:ecs:<region>:<account>:cluster/<name>
export const ECS_CLUSTER_ARN = pattern(
  "an ECS cluster ARN (arn:<partition>:ecs:<region>:<account>:cluster/<name>)",
  new RegExp(`^${arnPrefix("ecs")}cluster/(?<clusterName>${ECS_NAME_SRC})$`),
);
// Task ARNs: the current format task/<cluster>/<32 hex id>, or the older task/<uuid>.
export const ECS_TASK_ARN = pattern(
  "an ECS task ARN (arn:<partition>:ecs:<region>:<account>:task/<cluster>/<task id>)",
  new RegExp(
    `^${arnPrefix("ecs")}task/(?:(?<clusterName>${ECS_NAME_SRC})/)?` +
      "(?<taskId>[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$",
  ),
);
// arn:<partition>:ecs:<region>:<account>:task-definition/<family>:<revision>
export const ECS_TASK_DEFINITION_ARN = pattern(
  "an ECS task definition ARN (arn:<partition>:ecs:<region>:<account>:task-definition/<family>:<revision>)",
  new RegExp(`^${arnPrefix("ecs")}task-definition/(?<family>${ECS_NAME_SRC}):(?<revision>[0-9]{1,10})$`),
);

// EKS cluster names: start with a letter or digit, then letters, digits, hyphens, underscores; 1-100.
const EKS_NAME_SRC = "[0-9A-Za-z][A-Za-z0-9_-]{0,99}";
export const EKS_CLUSTER_NAME = pattern("an EKS cluster name", new RegExp(`^${EKS_NAME_SRC}$`));
// arn:<partition>:eks:<region>:<account>:cluster/<name>
export const EKS_CLUSTER_ARN = pattern(
  "an EKS cluster ARN (arn:<partition>:eks:<region>:<account>:cluster/<name>)",
  new RegExp(`^${arnPrefix("eks")}cluster/(?<clusterName>${EKS_NAME_SRC})$`),
);

// Kubernetes names. Namespaces are DNS-1123 labels (lowercase alphanumerics and '-', at most 63);
// pod and workload names are DNS-1123 subdomains (labels joined by '.', at most 253).
const DNS_LABEL_SRC = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
export const K8S_NAMESPACE = pattern("a Kubernetes namespace (DNS-1123 label)", new RegExp(`^${DNS_LABEL_SRC}$`));
export const K8S_NAME = pattern(
  "a Kubernetes object name (DNS-1123 subdomain)",
  new RegExp(`^(?=.{1,253}$)${DNS_LABEL_SRC}(?:\\.${DNS_LABEL_SRC})*$`),
);
// Kubernetes object UIDs are RFC 4122 UUIDs in lowercase.
export const K8S_UID = pattern(
  "a Kubernetes UID (lowercase UUID)",
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
);
// Workload kinds as GuardDuty reports them: "pods", "deployments", "Pod", ...
export const K8S_WORKLOAD_TYPE = pattern("a Kubernetes workload kind", /^[A-Za-z]{1,63}$/);

// Container image digests: sha256:<64 lowercase hex>.
export const IMAGE_DIGEST = pattern("an image digest (sha256: and 64 hex digits)", /^sha256:[0-9a-f]{64}$/);
// Image references: [registry[:port]/]path[:tag][@sha256:digest], the Docker distribution grammar
// restricted to ASCII: path components are lowercase alphanumerics joined by '.', '_', '__' or '-'.
const NAME_COMPONENT_SRC = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_LABEL_SRC = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const REGISTRY_SRC = `${DOMAIN_LABEL_SRC}(?:\\.${DOMAIN_LABEL_SRC})*(?::[0-9]{1,5})?`;
export const IMAGE_REFERENCE = pattern(
  "a container image reference ([registry/]repository[:tag][@sha256:digest])",
  new RegExp(
    `^(?=.{1,512}$)(?:${REGISTRY_SRC}/)?${NAME_COMPONENT_SRC}(?:/${NAME_COMPONENT_SRC})*` +
      "(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$",
  ),
);
// Container ids: Docker/containerd ids are 64 hex (12 when shortened); ECS on Fargate reports
// "<32 hex>-<digits>". All fit Docker's object-name charset, which is also safe on a command line.
export const CONTAINER_ID = pattern("a container id", /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/);
// Container names (Docker, ECS container definitions, Kubernetes containers) in the same charset.
export const CONTAINER_NAME = pattern("a container name", /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/);
// Container runtimes as GuardDuty names them: docker, containerd, cri-o, ...
export const CONTAINER_RUNTIME = pattern("a container runtime name", /^[a-z0-9][a-z0-9._-]{0,31}$/);

// IAM access key ids: AKIA (long-term user keys) or ASIA (temporary STS credentials) + 16 characters.
export const ACCESS_KEY_ID = pattern(
  "an access key id (AKIA or ASIA and 16 uppercase letters or digits)",
  /^(?:AKIA|ASIA)[A-Z0-9]{16}$/,
);
// IAM user and role names: letters, digits and _+=,.@- up to 64 (IAM quotas).
export const IAM_NAME = pattern("an IAM user or role name", /^[A-Za-z0-9_+=,.@-]{1,64}$/);
// GuardDuty userType values: IAMUser, AssumedRole, Root, FederatedUser, ...
export const IAM_USER_TYPE = pattern("an IAM user type such as IAMUser or AssumedRole", /^[A-Za-z]{1,32}$/);
// Principal ids: a unique id (AIDA..., AROA..., or the account id for root), optionally
// ":<session or user name>" for assumed roles and federated users.
export const PRINCIPAL_ID = pattern(
  "an IAM principal id (e.g. AIDA... or AROA...:session)",
  /^[A-Z0-9]{12,128}(?::[A-Za-z0-9_+=,.@-]{1,128})?$/,
);

// arn:<partition>:ec2:<region>:<account>:instance/<instance id> (policy exemptions name instances this way).
export const EC2_INSTANCE_ARN = pattern(
  "an EC2 instance ARN (arn:<partition>:ec2:<region>:<account>:instance/i-...)",
  new RegExp(`^${arnPrefix("ec2")}instance/(?<instanceId>i-(?:[0-9a-f]{8}|[0-9a-f]{17}))$`),
);
// arn:<partition>:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<16 hex> (the
// Instance playbook records the target groups an instance leaves, and registers it back on release).
export const TARGET_GROUP_ARN = pattern(
  "an Elastic Load Balancing target group ARN",
  new RegExp(`^${arnPrefix("elasticloadbalancing")}targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$`),
);
// arn:<partition>:iam::<account>:user/<name> or role/<name>. IAM is global (no region). No path:
// GuardDuty reports the user or role name without its path, so an ARN with one could never match.
export const IAM_PRINCIPAL_ARN = pattern(
  "an IAM user or role ARN without a path (arn:<partition>:iam::<account>:user/<name> or role/<name>)",
  new RegExp(`^arn:(?<partition>${PARTITION_SRC}):iam::(?<account>${ACCOUNT_SRC}):(?<kind>user|role)/(?<name>[A-Za-z0-9_+=,.@-]{1,64})$`),
);

// SNS topic ARN: arn:<partition>:sns:<region>:<account>:<topic name>[.fifo]
export const SNS_TOPIC_ARN = pattern(
  "an SNS topic ARN",
  new RegExp(`^${arnPrefix("sns")}[A-Za-z0-9_-]{1,256}(?:\\.fifo)?$`),
);

// Finding types: ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact,
// e.g. "Backdoor:Runtime/C&CActivity.B!DNS". Not sent to AWS, but used for routing and metrics.
export const FINDING_TYPE = pattern(
  "a GuardDuty finding type (ThreatPurpose:Resource/Family.Mechanism!Artifact)",
  /^[A-Za-z0-9]{1,64}:[A-Za-z0-9]{1,64}\/[A-Za-z0-9&_.!-]{1,128}$/,
);
// Resource types: Instance, EKSCluster, ECSCluster, Container, AccessKey, S3Bucket, Lambda, ...
export const RESOURCE_TYPE = pattern("a GuardDuty resource type", /^[A-Za-z0-9_]{1,64}$/);

export function matches(p: IdentifierPattern, value: string): boolean {
  return p.regex.test(value);
}
