// What every sample finding shares: the JSON types, ids (random, or deterministic from a seed), the
// fields common to every finding, and the pieces several resource types use.
import { createHash, randomBytes } from "node:crypto";

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export interface FindingOptions {
  /** Finding id, 32 lowercase hex characters. Default: derived from `seed`, else random. */
  id?: string;
  /** Makes every generated identifier deterministic. */
  seed?: string;
  accountId?: string;
  region?: string;
  partition?: string;
  type?: string;
  severity?: number;
  title?: string;
  /** service.count: how many times GuardDuty has seen this activity. */
  count?: number;
  /** ISO strings. Default: now. */
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
  /** service.additionalInfo.sample; GuardDuty's sample findings carry `true`. */
  sample?: boolean | string;
  /** Tags on the affected resource (instance, cluster or task). */
  tags?: { key: string; value: string }[];
}

export const DEFAULT_ACCOUNT_ID = "111122223333";
export const DEFAULT_REGION = "us-east-1";

/** `n` lowercase hex characters: sha256 of seed and label when seeded, random otherwise. */
export function hexId(n: number, seed?: string, label = ""): string {
  if (seed === undefined) return randomBytes(Math.ceil(n / 2)).toString("hex").slice(0, n);
  let out = "";
  for (let i = 0; out.length < n; i++) out += createHash("sha256").update(`${seed}|${label}|${i}`).digest("hex");
  return out.slice(0, n);
}

/** A lowercase UUID, deterministic when seeded. */
export function uuid(seed?: string, label = ""): string {
  const h = hexId(32, seed, label);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A fresh GuardDuty-style finding id. */
export function newFindingId(seed?: string): string {
  return hexId(32, seed, "finding");
}

export interface Common {
  id: string;
  seed: string | undefined;
  accountId: string;
  region: string;
  partition: string;
  detectorId: string;
  createdAt: string;
  updatedAt: string;
}

export function common(o: FindingOptions): Common {
  const now = new Date().toISOString();
  const createdAt = o.createdAt ?? o.updatedAt ?? now;
  const accountId = o.accountId ?? DEFAULT_ACCOUNT_ID;
  const region = o.region ?? DEFAULT_REGION;
  return {
    id: o.id ?? newFindingId(o.seed),
    seed: o.seed,
    accountId,
    region,
    partition: o.partition ?? "aws",
    // GuardDuty has one detector per account and region, and a finding keeps its detector across
    // versions (ingest treats a change as a conflict): unseeded, the detector follows the account and region.
    detectorId: hexId(32, o.seed ?? `${accountId}|${region}`, "detector"),
    createdAt,
    updatedAt: o.updatedAt ?? createdAt,
  };
}

export interface Defaults {
  type: string;
  severity: number;
  title: string;
  description: string;
  featureName: string;
}

export function finding(o: FindingOptions, c: Common, d: Defaults, resource: JsonObject, service: JsonObject): JsonObject {
  const sample = o.sample ?? false;
  return {
    schemaVersion: "2.0",
    accountId: c.accountId,
    region: c.region,
    partition: c.partition,
    id: c.id,
    arn: `arn:${c.partition}:guardduty:${c.region}:${c.accountId}:detector/${c.detectorId}/finding/${c.id}`,
    type: o.type ?? d.type,
    resource,
    service: {
      serviceName: "guardduty",
      detectorId: c.detectorId,
      featureName: d.featureName,
      ...service,
      resourceRole: "TARGET",
      additionalInfo: sample === false ? { value: "{}", type: "default" } : { sample },
      eventFirstSeen: c.createdAt,
      eventLastSeen: c.updatedAt,
      archived: o.archived ?? false,
      count: o.count ?? 1,
    },
    severity: o.severity ?? d.severity,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    title: `${sample === false ? "" : "[SAMPLE] "}${o.title ?? d.title}`,
    description: d.description,
  };
}

export function tagList(o: FindingOptions, fallback: { key: string; value: string }[]): JsonObject[] {
  return (o.tags ?? fallback).map((t) => ({ key: t.key, value: t.value }));
}

/** service.runtimeDetails for a Runtime Monitoring finding: the process the agent saw. */
export function runtimeDetails(c: Common, name: string, path: string): JsonObject {
  const parent = uuid(c.seed, "parent-process");
  return {
    process: {
      name,
      executablePath: path,
      executableSha256: hexId(64, c.seed, `sha-${name}`),
      pid: 4242,
      namespacePid: 17,
      pwd: "/tmp",
      uuid: uuid(c.seed, `process-${name}`),
      parentUuid: parent,
      startTime: c.createdAt,
      user: "root",
      uid: 0,
      euid: 0,
      userId: 0,
      lineage: [{ pid: 4100, uuid: parent, executablePath: "/bin/bash", euid: 0, startTime: c.createdAt, name: "bash", userId: 0 }],
    },
    context: {},
  };
}
