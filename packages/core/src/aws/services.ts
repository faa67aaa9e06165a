// The AWS services a playbook step may call, one entry each: how to build its SDK client from the
// settings the factory resolved for an account and region. Adding a service is one entry here; the
// client set's type (clients.ts) and the factory's lazy getters follow from this table.
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECRClient } from "@aws-sdk/client-ecr";
import { ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GuardDutyClient } from "@aws-sdk/client-guardduty";
import { IAMClient } from "@aws-sdk/client-iam";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/** What every client of one account and region is built with (client-config.ts plus credentials). */
export interface ServiceClientSettings {
  region: string;
  endpoint?: string;
  maxAttempts: number;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export const AWS_SERVICES = {
  ec2: (settings: ServiceClientSettings) => new EC2Client(settings),
  autoscaling: (settings: ServiceClientSettings) => new AutoScalingClient(settings),
  elbv2: (settings: ServiceClientSettings) => new ElasticLoadBalancingV2Client(settings),
  guardduty: (settings: ServiceClientSettings) => new GuardDutyClient(settings),
  ecs: (settings: ServiceClientSettings) => new ECSClient(settings),
  ecr: (settings: ServiceClientSettings) => new ECRClient(settings),
  // IAM is global: the client signs for the partition's global endpoint whatever the region.
  iam: (settings: ServiceClientSettings) => new IAMClient(settings),
} as const;
