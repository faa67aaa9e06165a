import { FINDING_ID } from "../findings/patterns.js";
import { PLAYBOOKS, type PlaybookName } from "./playbooks.js";

/**
 * The one grammar of BullMQ job ids. Deterministic ids are how a re-add is deduplicated (BullMQ
 * ignores an add under an id it holds), so every producer builds them here:
 *
 *   id   = base [ "-" run ] [ "-evidence" ]
 *   base = playbook "-" findingId "-" key        (remediations.job_id; ingest's containment job)
 *   run  = ("continue" | "release") "-" hash16   (carrying out an approved plan; hash16: its first 16 hex)
 *        | "release-at-" millis                  (a release asked for at that time)
 *        | "retry-" n                            (the n-th retry a person asked for)
 *        | "recovery-" n                         (the reconciler's n-th recovery)
 *   "-evidence": the job a containing job hands over to (engine runner).
 *
 * BullMQ refuses `:` in custom ids (its key separator) and resource keys can be ARNs, so the key is
 * percent-encoded, `-` included: the key then holds no `-`, which makes every id parse back to
 * exactly what built it. Finding ids are 32 hex characters (findings/patterns.ts).
 */

export type JobRun =
  | { kind: "contain" }
  | { kind: "approved"; action: "continue" | "release"; planHash: string }
  | { kind: "release-request"; at: number }
  | { kind: "retry"; n: number }
  | { kind: "recovery"; n: number };

export interface JobIdParts {
  playbook: PlaybookName;
  findingId: string;
  resourceKey: string;
  run: JobRun;
  /** The evidence job handed over to by the job the rest of the id names. */
  evidence: boolean;
}

export const CONTAIN: JobRun = Object.freeze({ kind: "contain" });

const EVIDENCE = "-evidence";
const PLAN_HASH_PREFIX = 16;

/** The key as it appears in ids: percent-encoded, and `-` too, so it never holds the separator. */
function encodeKey(resourceKey: string): string {
  return encodeURIComponent(resourceKey).replace(/-/g, "%2D");
}

/** The base id `<playbook>-<findingId>-<key>`: ingest's containment job, stored as remediations.job_id. */
export function jobIdFor(playbook: PlaybookName, findingId: string, resourceKey: string): string {
  if (!FINDING_ID.regex.test(findingId)) throw new Error(`job id: finding id must be ${FINDING_ID.label}: ${JSON.stringify(findingId)}`);
  if (resourceKey.length === 0) throw new Error("job id: empty resource key");
  return `${playbook}-${findingId}-${encodeKey(resourceKey)}`;
}

function positive(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`job id: ${what} must be a positive integer, not ${n}`);
  return n;
}

function runSuffix(run: JobRun): string {
  switch (run.kind) {
    case "contain":
      return "";
    case "approved": {
      const hash = run.planHash.slice(0, PLAN_HASH_PREFIX);
      if (!/^[0-9a-f]{16}$/.test(hash)) throw new Error(`job id: plan hash must start with 16 hex characters: ${JSON.stringify(run.planHash)}`);
      return `-${run.action}-${hash}`;
    }
    case "release-request":
      if (!Number.isSafeInteger(run.at) || run.at < 0) throw new Error(`job id: release time must be epoch milliseconds, not ${run.at}`);
      return `-release-at-${run.at}`;
    case "retry":
      return `-retry-${positive(run.n, "retry number")}`;
    case "recovery":
      return `-recovery-${positive(run.n, "recovery number")}`;
  }
}

/**
 * A run of a remediation whose base id is `base` (as stored in remediations.job_id; rows stored
 * before `-` was encoded in keys keep their ids, so the base is taken as stored, not rebuilt).
 */
export function jobIdWith(base: string, run: JobRun, options: { evidence?: boolean } = {}): string {
  return `${base}${runSuffix(run)}${options.evidence ? EVIDENCE : ""}`;
}

/** The id of the job for this remediation run. */
export function jobIdOf(ref: { playbook: PlaybookName; findingId: string; resourceKey: string }, run: JobRun = CONTAIN): string {
  return jobIdWith(jobIdFor(ref.playbook, ref.findingId, ref.resourceKey), run);
}

/** The evidence job a containing job hands over to. */
export function evidenceJobId(jobId: string): string {
  return `${jobId}${EVIDENCE}`;
}

const PLAYBOOK_SRC = [...PLAYBOOKS].sort((a, b) => b.length - a.length).join("|");
const JOB_ID = new RegExp(
  `^(?<playbook>${PLAYBOOK_SRC})-(?<findingId>[0-9a-f]{32})-(?<key>[A-Za-z0-9_.!~*'()%]+)` +
    "(?:-(?<action>continue|release)-(?<hash>[0-9a-f]{16})|-release-at-(?<at>[0-9]{1,16})|-retry-(?<retry>[1-9][0-9]{0,15})|-recovery-(?<recovery>[1-9][0-9]{0,15}))?" +
    `(?<evidence>${EVIDENCE})?$`,
);

/** What an id built here says; null for anything else (including ids stored before `-` was encoded in keys, where a key holds one). */
export function parseJobId(id: string): JobIdParts | null {
  const g = JOB_ID.exec(id)?.groups;
  if (!g?.playbook || !g.findingId || !g.key) return null;
  let resourceKey: string;
  try {
    resourceKey = decodeURIComponent(g.key);
  } catch {
    return null; // a malformed escape
  }
  const playbook = PLAYBOOKS.find((p) => p === g.playbook);
  if (!playbook) return null;
  const run: JobRun =
    g.action === "continue" || g.action === "release"
      ? { kind: "approved", action: g.action, planHash: g.hash ?? "" }
      : g.at !== undefined
        ? { kind: "release-request", at: Number(g.at) }
        : g.retry !== undefined
          ? { kind: "retry", n: Number(g.retry) }
          : g.recovery !== undefined
            ? { kind: "recovery", n: Number(g.recovery) }
            : CONTAIN;
  const parts: JobIdParts = { playbook, findingId: g.findingId, resourceKey, run, evidence: g.evidence !== undefined };
  // Only the canonical spelling parses: an id that would not be built this way is not ours.
  try {
    return jobIdWith(jobIdFor(playbook, parts.findingId, resourceKey), run, { evidence: parts.evidence }) === id ? parts : null;
  } catch {
    return null; // e.g. a time past what an id may carry
  }
}
