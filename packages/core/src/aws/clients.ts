import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { GuardDutyClient } from "@aws-sdk/client-guardduty";

/** The SDK clients a playbook step may use, all bound to one account and region. */
export interface AwsClients {
  accountId: string;
  region: string;
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
  guardduty: GuardDutyClient;
}

/** Gives the clients for an account and region (assuming a role where the account is not ours). */
export interface AwsClientFactory {
  forTarget(accountId: string, region: string): Promise<AwsClients>;
  /** Destroys every cached client (shutdown). */
  destroy(): void;
}
