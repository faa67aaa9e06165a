// The EBS identifiers evidence work hands to EC2 (core has no use for them).
import type { IdentifierPattern } from "@gdr/core/findings/patterns";

const hexId = (prefix: string): RegExp => new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`);

export const VOLUME_ID: IdentifierPattern = { label: "an EBS volume id (vol-...)", regex: hexId("vol") };
export const SNAPSHOT_ID: IdentifierPattern = { label: "an EBS snapshot id (snap-...)", regex: hexId("snap") };
