// Reading network interfaces by id, every identifier checked with core's patterns before it is
// handed on. Used for instance interfaces (the instance playbook lists them by attachment first)
// and ECS task interfaces (the task's attachment names its ENI).
import { DescribeNetworkInterfacesCommand, type NetworkInterface } from "@aws-sdk/client-ec2";
import { NETWORK_INTERFACE_ID, SECURITY_GROUP_ID, VPC_ID } from "@gdr/core/findings/patterns";
import type { StepContext } from "../../../engine/step.js";
import { isErrorCode } from "../errors.js";
import { expectId } from "../ids.js";

/** One network interface as isolation sees it. A type, not an interface: outputs holding it are Json. */
export type EniState = {
  id: string;
  vpcId: string;
  groupIds: string[];
  /** Created and managed by an AWS service (an ECS task's ENI, a load balancer's): AWS may refuse group changes. */
  requesterManaged: boolean;
};

/** The same state with every identifier checked (a caller may have built it from a record). */
export function checkedEniState(eni: EniState): EniState {
  const id = expectId(NETWORK_INTERFACE_ID, eni.id, "a network interface id");
  return {
    id,
    vpcId: expectId(VPC_ID, eni.vpcId, `the VPC of ${id}`),
    groupIds: eni.groupIds.map((g) => expectId(SECURITY_GROUP_ID, g, `a security group of ${id}`)),
    requesterManaged: eni.requesterManaged,
  };
}

type ReadContext = Pick<StepContext, "read">;

/** An interface from an EC2 answer as EniState, its ids checked. */
export function toEniState(eni: NetworkInterface): EniState {
  const id = expectId(NETWORK_INTERFACE_ID, eni.NetworkInterfaceId, "a network interface id");
  return {
    id,
    vpcId: expectId(VPC_ID, eni.VpcId, `the VPC of ${id}`),
    groupIds: (eni.Groups ?? []).map((g) => expectId(SECURITY_GROUP_ID, g.GroupId, `a security group of ${id}`)),
    requesterManaged: eni.RequesterManaged ?? false,
  };
}

/**
 * DescribeNetworkInterfaces by id. An interface that does not exist (any more) is left out of the
 * answer, not an error: AWS answers the whole call with InvalidNetworkInterfaceID.NotFound when one
 * id is unknown, so the ids are then read one by one. The answer is in the order of `ids`.
 */
export async function readEnisByIds(ctx: ReadContext, ids: readonly string[]): Promise<EniState[]> {
  const wanted = [...new Set(ids.map((id) => expectId(NETWORK_INTERFACE_ID, id, "a network interface id to read")))];
  if (wanted.length === 0) return [];
  let found: NetworkInterface[];
  try {
    found = await describe(ctx, wanted);
  } catch (err) {
    if (!isErrorCode(err, "InvalidNetworkInterfaceID.NotFound") || wanted.length === 1) {
      if (isErrorCode(err, "InvalidNetworkInterfaceID.NotFound")) return [];
      throw err;
    }
    found = [];
    for (const id of wanted) {
      try {
        found.push(...(await describe(ctx, [id])));
      } catch (one) {
        if (!isErrorCode(one, "InvalidNetworkInterfaceID.NotFound")) throw one;
      }
    }
  }
  const byId = new Map(found.map((eni) => [eni.NetworkInterfaceId, eni]));
  return wanted.flatMap((id) => {
    const eni = byId.get(id);
    return eni ? [toEniState(eni)] : [];
  });
}

async function describe(ctx: ReadContext, ids: string[]): Promise<NetworkInterface[]> {
  const out = await ctx.read("ec2", "ec2-read", new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids }));
  return out.NetworkInterfaces ?? [];
}

/** Same members, order ignored: security groups on an interface are a set. */
export function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((g) => right.has(g));
}
