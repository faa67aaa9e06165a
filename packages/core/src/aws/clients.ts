import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { GuardDutyClient } from "@aws-sdk/client-guardduty";
import type { IAMClient } from "@aws-sdk/client-iam";

/** The SDK clients a playbook step may use, by name, all bound to one account and region. */
export interface AwsServiceClients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
  guardduty: GuardDutyClient;
  /** IAM is global: the client signs for the partition's global endpoint whatever the region. */
  iam: IAMClient;
}

export type AwsServiceName = keyof AwsServiceClients;

export type AwsClients = { accountId: string; region: string } & AwsServiceClients;

/** Gives the clients for an account and region (assuming a role where the account is not ours). */
export interface AwsClientFactory {
  forTarget(accountId: string, region: string): Promise<AwsClients>;
  /** Destroys every cached client (shutdown). */
  destroy(): void;
}
