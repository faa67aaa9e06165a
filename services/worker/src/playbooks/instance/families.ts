// The rate buckets this playbook's calls take tokens from, per account, with their defaults (the
// limits config may override them). Each call names its family: ctx.read / ctx.change.
import type { ApiFamily } from "../../engine/step.js";
import type { BucketSpec } from "../../engine/limits/token-bucket.js";
import { EC2_READ, EC2_WRITE, ELBV2, familiesOf } from "../kit/families.js";

/**
 * Defaults well below AWS's own throttling, because the account's other users (consoles, CI,
 * autoscalers, other tools) draw from the same AWS buckets, and a containment tool that gets
 * throttled mid-isolation is worse than one that paces itself. AWS throttles per account and
 * Region; our buckets are per account across Regions, which is only ever stricter.
 *
 * Sources (AWS documentation, "Request throttling for the Amazon EC2 API", EC2 Developer Guide,
 * ec2-api-throttling; "Request throttling for the Elastic Load Balancing API", ELB User Guide,
 * elb-api-throttling; AWS re:Post knowledge center "autoscaling-api-calls-throttled"):
 * - EC2 mutating actions: bucket 50, refill 5/s. Resource-intensive ones (Authorize/Revoke
 *   SecurityGroupIngress) also 50 and 5/s. Some calls we make have their own, larger buckets
 *   (ModifyNetworkInterfaceAttribute, CreateSnapshot 100 and 5/s; CreateTags 100 and 10/s), so
 *   the shared 50 and 5/s bound all of them. We take 20 and 2/s: 40 % of AWS's bucket.
 * - EC2 non-mutating (Describe*): bucket 100, refill 20/s; unfiltered and unpaginated
 *   DescribeInstances / DescribeNetworkInterfaces / DescribeSecurityGroups / DescribeSnapshots /
 *   DescribeVolumes: 50 and 10/s. We take 40 and 8/s, below the smaller of the two.
 * - ELB v2 non-mutating actions: bucket 40, refill 10/s; mutating actions are lower. We take 10
 *   and 2/s for every ELB v2 call.
 * - EC2 Auto Scaling: one bucket shared by all its API calls per account and Region; the size
 *   is not published. GuardDuty publishes no request rate either. Both get 10 and 2/s: a few
 *   calls per remediation, so this costs nothing and risks nothing.
 */
export const INSTANCE_FAMILIES: Readonly<Record<ApiFamily, BucketSpec>> = Object.freeze({
  // EC2 and ELB v2 are shared with the ECS playbooks (kit/families.ts): one bucket each.
  ...familiesOf([EC2_WRITE, EC2_READ, ELBV2]),
  autoscaling: Object.freeze({ capacity: 10, refillPerSecond: 2 }),
  guardduty: Object.freeze({ capacity: 10, refillPerSecond: 2 }),
});
