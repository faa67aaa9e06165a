// The isolate step's recorded output, read back (by the step's check and verify, and by release):
// every id in it is checked again, since it comes from the database, not from AWS.
import type { Json } from "../../../engine/step.js";
import { NETWORK_INTERFACE_ID, SECURITY_GROUP_ID, VPC_ID, expectId } from "./ids.js";
import { asArray, asObject } from "./json.js";

export type IsolateOutput = {
  /** The isolation group of the instance's own VPC (its primary interface's). */
  isolationGroupId: string;
  groups: { vpcId: string; groupId: string; created: boolean }[];
  enis: { id: string; vpcId: string; previousGroupIds: string[] }[];
};

export function parseIsolateOutput(value: Json): IsolateOutput {
  const o = asObject(value, "isolate output");
  return {
    isolationGroupId: expectId(SECURITY_GROUP_ID, o.isolationGroupId, "isolationGroupId"),
    groups: asArray(o.groups, "groups").map((item) => {
      const g = asObject(item, "groups[]");
      return {
        vpcId: expectId(VPC_ID, g.vpcId, "groups[].vpcId"),
        groupId: expectId(SECURITY_GROUP_ID, g.groupId, "groups[].groupId"),
        created: g.created === true,
      };
    }),
    enis: asArray(o.enis, "enis").map((item) => {
      const e = asObject(item, "enis[]");
      return {
        id: expectId(NETWORK_INTERFACE_ID, e.id, "enis[].id"),
        vpcId: expectId(VPC_ID, e.vpcId, "enis[].vpcId"),
        previousGroupIds: asArray(e.previousGroupIds, "enis[].previousGroupIds").map((g) =>
          expectId(SECURITY_GROUP_ID, g, "enis[].previousGroupIds[]"),
        ),
      };
    }),
  };
}
