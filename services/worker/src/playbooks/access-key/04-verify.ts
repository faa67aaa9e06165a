// Step 4: look again, from scratch, at what containment promised: the user's key reads Inactive,
// or the role holds exactly the revocation document written, cutoff included. moto stores both
// but enforces neither (an Inactive key still authenticates there): this checks the state IAM
// holds, which is what AWS enforces.
import { z } from "zod";
import { checkingStep, parseOutput, type Step, type StepContext } from "../kit/index.js";
import { revokePolicyName, STEP } from "./names.js";
import { principalOf } from "./principal.js";
import { revokedSchema } from "./03-revoke-sessions.js";
import { revokeCutoffOf, decodePolicyDocument } from "./revoke-policy.js";
import { readRevokePolicy } from "./role-policy.js";
import { readKey } from "./user-key.js";

const verifiedSchema = z.object({ ok: z.boolean(), checked: z.string(), problems: z.array(z.string()) });
type Verified = z.infer<typeof verifiedSchema>;

async function inspect(ctx: StepContext): Promise<Verified> {
  const principal = principalOf(ctx);
  if (principal.kind === "user-key") {
    const key = await readKey(ctx, principal.userName, principal.accessKeyId);
    const status = key.found === "key" ? key.status : key.found;
    const checked = `access key ${principal.accessKeyId} of user ${principal.userName} is ${status}`;
    return { ok: status === "Inactive", checked, problems: status === "Inactive" ? [] : [checked] };
  }
  const written = parseOutput(revokedSchema, ctx.outputs.get(STEP.revokeSessions), "revoke-sessions' output");
  const policyName = revokePolicyName(ctx.remediation.id);
  const found = await readRevokePolicy(ctx, principal.roleName, policyName);
  const problems: string[] = [];
  if (found.state !== "ours") problems.push(`role ${principal.roleName} has ${found.state === "absent" ? "no" : "another"} policy ${policyName}`);
  // Exactly the document written: the same cutoff, the same statement, nothing added.
  else if (found.cutoff !== written.cutoff || revokeCutoffOf(decodePolicyDocument(written.document)) !== found.cutoff) {
    problems.push(`policy ${policyName} has cutoff ${found.cutoff}, ${written.cutoff} was written`);
  }
  return { ok: problems.length === 0, checked: `role ${principal.roleName} denies sessions issued before ${written.cutoff} (${policyName})`, problems };
}

export const verifyContainment: Step = checkingStep(STEP.verify, verifiedSchema, inspect);
