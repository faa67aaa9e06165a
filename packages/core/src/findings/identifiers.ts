import { preview } from "./describe.js";
import { FindingRejection } from "./errors.js";
import type { IdentifierPattern } from "./patterns.js";

/**
 * Checks identifier fields of a finding's resource against their patterns.
 *
 * Real findings are checked strictly: a value that is present and does not match rejects the
 * finding (`invalid_identifier`), and a resource ARN outside the finding's own account rejects it
 * as `account_mismatch`.
 *
 * Sample findings (service.additionalInfo.sample) are checked leniently: GuardDuty fills them with
 * placeholders such as "GeneratedFindingSubnetId" or "arn:aws:ecs:region:123456789000:cluster/…",
 * so a value that does not match is dropped instead, as if GuardDuty had omitted it. Dropped values
 * never reach the ParsedFinding, and policy routing never acts on a sample finding.
 *
 * In both modes, absent, null and empty-string values are treated as "not reported".
 */
export interface FindingScope {
  partition: string;
  region: string;
  accountId: string;
}

export interface ArnMatch {
  arn: string;
  groups: Partial<Record<string, string>>;
}

export class IdentifierChecker {
  constructor(
    readonly scope: FindingScope,
    readonly lenient: boolean,
  ) {}

  /** The value if it matches `pattern`; undefined when not reported (or dropped in lenient mode). */
  optional(value: string | null | undefined, pattern: IdentifierPattern, path: string): string | undefined {
    if (value === undefined || value === null || value === "") return undefined;
    if (pattern.regex.test(value)) return value;
    if (this.lenient) return undefined;
    throw new FindingRejection("invalid_identifier", `${path} is ${preview(value)}, expected ${pattern.label}`);
  }

  /**
   * An ARN that must match `pattern` (with named groups partition, region, account) and belong to
   * the finding's own partition, region and account: the worker acts only in that account.
   */
  optionalArn(value: string | null | undefined, pattern: IdentifierPattern, path: string): ArnMatch | undefined {
    const arn = this.optional(value, pattern, path);
    if (arn === undefined) return undefined;
    const groups: Partial<Record<string, string>> = pattern.regex.exec(arn)?.groups ?? {};
    const { partition, region, accountId } = this.scope;
    if (groups["account"] !== accountId) {
      const account = groups["account"] ?? "?";
      this.inconsistent("account_mismatch", `${path} is in account ${account}, but the finding is for account ${accountId}`);
      return undefined;
    }
    if (groups["region"] !== region || groups["partition"] !== partition) {
      const where = `${groups["partition"] ?? "?"}/${groups["region"] ?? "?"}`;
      this.inconsistent("invalid_finding", `${path} is in ${where}, but the finding is for ${partition}/${region}`);
      return undefined;
    }
    return { arn, groups };
  }

  /**
   * Two reported values that must agree (e.g. a cluster's name and the name inside its ARN).
   * Strict: rejects as invalid_finding. Lenient: returns false so the caller drops the less
   * authoritative one.
   */
  consistent(ok: boolean, message: string): boolean {
    if (ok) return true;
    if (this.lenient) return false;
    throw new FindingRejection("invalid_finding", message);
  }

  /** Strict: throws. Lenient: returns, and the caller drops the value. */
  private inconsistent(reason: "account_mismatch" | "invalid_finding", message: string): void {
    if (!this.lenient) throw new FindingRejection(reason, message);
  }
}
