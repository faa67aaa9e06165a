// Reading an ECR image scan's result into a record: status, severity counts and the first
// findings, from a basic scan (imageScanFindings.findings) or an enhanced one (Amazon Inspector's
// enhancedFindings, which ECR returns in the same call).
import { DescribeImageScanFindingsCommand, GetRegistryScanningConfigurationCommand } from "@aws-sdk/client-ecr";
import { z } from "zod";
import { isErrorCode, isTransient, type StepContext } from "../kit/index.js";
import { ECR_READ } from "../kit/families.js";
import { ECR } from "./errors.js";

/** How many findings the record keeps; the counts cover all of them. */
export const FINDINGS_KEPT = 20;

export const scanResultSchema = z.object({
  /** IN_PROGRESS, COMPLETE, FAILED, ACTIVE (enhanced, continuous), ... or null when there is no scan. */
  status: z.string().nullable(),
  description: z.string().nullable(),
  completedAt: z.string().nullable(),
  severityCounts: z.record(z.string(), z.number().int().nonnegative()),
  findings: z.array(z.object({ name: z.string(), severity: z.string() })),
  /** More findings than were kept. */
  truncated: z.boolean(),
});
export type ScanResult = z.infer<typeof scanResultSchema>;

export interface ImageInRepository {
  registryId: string;
  repositoryName: string;
  digest: string;
}

/** The registry's scanning type: BASIC, ENHANCED, or null when it could not be read. */
export async function scanTypeOf(ctx: Pick<StepContext, "read">, registryId: string): Promise<string | null> {
  try {
    const out = await ctx.read("ecr", ECR_READ, new GetRegistryScanningConfigurationCommand({}));
    // The configuration read is the caller's own registry, which is the remediation's account.
    return out.registryId === registryId ? (out.scanningConfiguration?.scanType ?? null) : null;
  } catch (err) {
    // Throttling and outages are retried like any step's error; a refusal (no permission) only
    // means the scan is tried the basic way, and its own answer decides.
    if (isTransient(err)) throw err;
    return null;
  }
}

export async function scanResult(ctx: Pick<StepContext, "read">, image: ImageInRepository): Promise<ScanResult> {
  const none: ScanResult = { status: null, description: null, completedAt: null, severityCounts: {}, findings: [], truncated: false };
  let out;
  try {
    out = await ctx.read(
      "ecr",
      ECR_READ,
      new DescribeImageScanFindingsCommand({ registryId: image.registryId, repositoryName: image.repositoryName, imageId: { imageDigest: image.digest }, maxResults: FINDINGS_KEPT }),
    );
  } catch (err) {
    if (isErrorCode(err, ECR.scanNotFound)) return none;
    throw err;
  }
  const findings = out.imageScanFindings;
  const basic = (findings?.findings ?? []).map((f) => ({ name: f.name ?? "", severity: f.severity ?? "UNDEFINED" }));
  const enhanced = (findings?.enhancedFindings ?? []).map((f) => ({ name: f.packageVulnerabilityDetails?.vulnerabilityId ?? f.title ?? "", severity: f.severity ?? "UNDEFINED" }));
  const all = [...basic, ...enhanced];
  return {
    status: out.imageScanStatus?.status ?? null,
    description: out.imageScanStatus?.description ?? null,
    completedAt: findings?.imageScanCompletedAt?.toISOString() ?? null,
    severityCounts: { ...(findings?.findingSeverityCounts ?? {}) },
    findings: all.slice(0, FINDINGS_KEPT),
    truncated: all.length > FINDINGS_KEPT || out.nextToken !== undefined,
  };
}
