// A user's access key as IAM holds it now. ListAccessKeys by user name is the only IAM read that
// ties a key to its owner: a key not among the named user's keys is never acted on.
import { ListAccessKeysCommand } from "@aws-sdk/client-iam";
import type { StepContext } from "../kit/index.js";
import { IAM_READ } from "./families.js";
import { isNoSuchEntity } from "./iam-errors.js";

export type KeyState =
  | { found: "key"; status: "Active" | "Inactive"; created: string | null }
  /** The user exists; the key is not one of theirs (deleted, or someone else's). */
  | { found: "not_this_users" }
  /** IAM has no user of that name (deleting a user deletes its keys). */
  | { found: "no_user" };

export async function readKey(ctx: StepContext, userName: string, accessKeyId: string): Promise<KeyState> {
  let marker: string | undefined;
  // A user has at most two access keys (IAM quotas); the loop guards against a changed quota.
  for (let page = 0; page < 5; page++) {
    let out;
    try {
      out = await ctx.read("iam", IAM_READ, new ListAccessKeysCommand({ UserName: userName, Marker: marker }));
    } catch (err) {
      if (isNoSuchEntity(err)) return { found: "no_user" };
      throw err;
    }
    const key = (out.AccessKeyMetadata ?? []).find((k) => k.AccessKeyId === accessKeyId);
    if (key) {
      if (key.Status !== "Active" && key.Status !== "Inactive") throw new Error(`IAM answered status ${String(key.Status)} for ${accessKeyId}`);
      return { found: "key", status: key.Status, created: key.CreateDate?.toISOString() ?? null };
    }
    if (out.IsTruncated !== true || out.Marker === undefined) break;
    marker = out.Marker;
  }
  return { found: "not_this_users" };
}
