/**
 * What the rest of the service knows about a GuardDuty finding once it has passed validation.
 * Every identifier here matched a strict pattern (see patterns.ts), so it may reach an AWS call.
 */

export const SUPPORTED_RESOURCE_TYPES = ["Instance", "EKSCluster", "ECSCluster", "Container", "AccessKey"] as const;
export type SupportedResourceType = (typeof SUPPORTED_RESOURCE_TYPES)[number];

export interface Tag {
  key: string;
  value: string;
}

export interface NetworkInterfaceRef {
  networkInterfaceId: string;
  vpcId?: string;
  subnetId?: string;
  securityGroupIds: string[];
}

export interface ContainerRef {
  name?: string;
  image?: string;
  imageDigest?: string;
  containerId?: string;
}

export interface InstanceResource {
  type: "Instance";
  instanceId: string;
  vpcId?: string;
  subnetId?: string;
  imageId?: string;
  networkInterfaces: NetworkInterfaceRef[];
  /** Set when the instance is an EKS node (the finding carries the cluster in its tags/details). */
  eksClusterName?: string;
}

export interface EksClusterResource {
  type: "EKSCluster";
  clusterName: string;
  clusterArn?: string;
  namespace?: string;
  podName?: string;
  podUid?: string;
  workloadKind?: string;
  workloadName?: string;
  nodeInstanceId?: string;
  containers: ContainerRef[];
}

export interface EcsClusterResource {
  type: "ECSCluster";
  clusterArn: string;
  clusterName?: string;
  taskArn?: string;
  taskDefinitionArn?: string;
  containers: ContainerRef[];
}

export interface ContainerResource {
  type: "Container";
  containerId?: string;
  containerName?: string;
  image?: string;
  imageDigest?: string;
  containerRuntime?: string;
  instanceId?: string;
}

export interface AccessKeyResource {
  type: "AccessKey";
  accessKeyId?: string;
  userName?: string;
  userType?: string;
  principalId?: string;
}

/** A resource type this service has no playbook for (S3Bucket, RDSDBInstance, ...). */
export interface OtherResource {
  type: "Other";
  resourceType: string;
}

export type FindingResource =
  | InstanceResource
  | EksClusterResource
  | EcsClusterResource
  | ContainerResource
  | AccessKeyResource
  | OtherResource;

export interface ParsedFinding {
  id: string;
  arn: string;
  accountId: string;
  region: string;
  partition: string;
  type: string;
  severity: number;
  title: string;
  description?: string;
  createdAt: Date;
  updatedAt: Date;
  /** service.eventFirstSeen / eventLastSeen: when the activity behind the finding was first and last seen. */
  firstSeen?: Date;
  lastSeen?: Date;
  count: number;
  archived: boolean;
  /** GuardDuty sample findings (additionalInfo.sample = true) describe no real resource. */
  sample: boolean;
  resourceType: string;
  resource: FindingResource;
  /** Stable key of the affected resource (e.g. the instance id); null for Other resources. */
  resourceKey: string | null;
  /** Tags GuardDuty reported on the resource, used for the exemption tag. */
  tags: Tag[];
  /**
   * Runtime Monitoring findings (`service.runtimeDetails`): whether GuardDuty names the process
   * that created or modified the file or process involved (`context.modifyingProcess`). None named
   * means the file came with the container's image as far as GuardDuty saw, which is what the
   * policy's `modifyingProcess: absent` matches. Absent for findings without runtime details.
   */
  runtime?: { modifyingProcess: boolean };
  /** The finding (`detail`) as received, for the audit store. */
  detail: Record<string, unknown>;
  /** How the finding arrived: a raw EventBridge event or one wrapped in an SNS notification. */
  envelope: "eventbridge" | "sns";
}
