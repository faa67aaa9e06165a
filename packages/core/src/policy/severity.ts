/**
 * GuardDuty severity bands, as documented in "Severity levels of GuardDuty findings" (GuardDuty
 * user guide): Low 1.0–3.9, Medium 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0.
 *
 * GuardDuty reports one decimal, but the API type is a double, so each band here reaches up to
 * (not including) the next band's floor: 3.95 is low, not "no band". Below 1.0 is no band.
 */
export const SEVERITY_BANDS = ["low", "medium", "high", "critical"] as const;
export type SeverityBand = (typeof SEVERITY_BANDS)[number];

/** The lowest severity of each band; a band ends where the next one starts (critical at 10.0). */
export const BAND_FLOOR: Readonly<Record<SeverityBand, number>> = Object.freeze({
  low: 1.0,
  medium: 4.0,
  high: 7.0,
  critical: 9.0,
});

export const MAX_SEVERITY = 10.0;

export function bandOf(severity: number): SeverityBand | undefined {
  if (!(severity <= MAX_SEVERITY)) return undefined; // also rejects NaN
  if (severity >= BAND_FLOOR.critical) return "critical";
  if (severity >= BAND_FLOOR.high) return "high";
  if (severity >= BAND_FLOOR.medium) return "medium";
  if (severity >= BAND_FLOOR.low) return "low";
  return undefined;
}

/** How a rule matches severity: band names, or an inclusive numeric range. */
export type SeverityMatch =
  | SeverityBand
  | readonly SeverityBand[]
  | { readonly min?: number | undefined; readonly max?: number | undefined };

export function severityMatches(severity: number, match: SeverityMatch): boolean {
  if (typeof match === "string") return bandOf(severity) === match;
  if (isBandList(match)) {
    const band = bandOf(severity);
    return band !== undefined && match.includes(band);
  }
  return severity >= (match.min ?? 0) && severity <= (match.max ?? MAX_SEVERITY);
}

function isBandList(match: SeverityMatch): match is readonly SeverityBand[] {
  return Array.isArray(match);
}
