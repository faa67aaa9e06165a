// Placeholders for answers a change has not given yet. In plan and dry-run mode a change is
// recorded, not sent, so act gets back the change's `planned` answer instead of AWS's; a later call
// that uses it (the new group's id) is recorded with the placeholder, which is what an approver
// reads: "(the group CreateSecurityGroup returns)". The engine knows the grammar so that it can
// tell a placeholder from an ordinary value (a dry run cannot check a call that uses one).

const PLACEHOLDER = /^\(the [a-z0-9 ]+ [A-Za-z0-9]+ returns(?: for [^()]{1,200})?\)$/;

/** `GroupId` → "group", `ScanId` → "scan", `AccessKeyId` → "access key". */
function noun(field: string): string {
  return field
    .replace(/(?:Id|Arn|Name)$/, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase();
}

/**
 * The placeholder for one field of an operation's answer: resultOf("CreateSecurityGroup",
 * "GroupId") is "(the group CreateSecurityGroup returns)". `forWhat` tells apart two answers of
 * one operation in one plan (a new group in each of two VPCs): "(… returns for vpc-0abc…)".
 */
export function resultOf(operation: string, field: string, forWhat?: string): string {
  const what = noun(field) || field.toLowerCase();
  return forWhat === undefined ? `(the ${what} ${operation} returns)` : `(the ${what} ${operation} returns for ${forWhat})`;
}

/** Whether a value is a placeholder resultOf built. */
export function isPlaceholder(value: unknown): value is string {
  return typeof value === "string" && PLACEHOLDER.test(value);
}

/** Whether a placeholder stands for this field of this operation's answer (whatever it is for). */
export function isPlaceholderFor(value: string, operation: string, field: string): boolean {
  const bare = resultOf(operation, field);
  return value === bare || (isPlaceholder(value) && value.startsWith(`${bare.slice(0, -1)} for `));
}
