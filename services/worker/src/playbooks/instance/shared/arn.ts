import type { StepContext } from "../../../engine/step.js";
import { regionalArn } from "../../kit/arn.js";

/** arn:<partition>:ec2:<region>:<account>:instance/<id>, from the remediation's account and region. */
export function instanceArn(ctx: Pick<StepContext, "remediation">, instanceId: string): string {
  return regionalArn(ctx, "ec2", `instance/${instanceId}`);
}
