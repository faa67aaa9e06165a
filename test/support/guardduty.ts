// GuardDuty's side of the confirmation gate. moto has no GuardDuty GetFindings
// (../shared/MOTO.md): GuardDuty is mocked with aws-sdk-client-mock on the worker's own GuardDuty
// client (wired in through the client factory's middleware hook), while EC2, Auto Scaling and
// ELBv2 stay on moto.
import { BadRequestException, type Finding, GetFindingsCommand, StartMalwareScanCommand } from "@aws-sdk/client-guardduty";
import type { AwsClients } from "@gdr/core/aws/clients";
import type { JsonObject } from "@gdr/samples/findings";
import { mockClient } from "aws-sdk-client-mock";

/** The same document in the SDK's shape: GuardDuty's camelCase keys with their first letter upper-cased. */
export function asSdkFinding(detail: JsonObject): Finding {
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(convert);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), convert(v)]));
  };
  return convert(detail) as Finding;
}

/**
 * GuardDuty as the worker sees it: GetFindings answers from `known` (finding id → GuardDuty's
 * copy), an empty list for anything else, as GuardDuty does for an id it does not hold;
 * StartMalwareScan is refused as where Malware Protection is not enabled (the step carries on).
 * `failWith` makes GetFindings fail instead (e.g. access denied).
 */
export interface MockGuardDuty {
  known: Map<string, Finding>;
  failWith: Error | null;
  /** The GetFindings inputs the worker sent. */
  requests: { DetectorId?: string | undefined; FindingIds?: string[] | undefined }[];
  install(clients: AwsClients): void;
}

export function createMockGuardDuty(): MockGuardDuty {
  const state: MockGuardDuty = {
    known: new Map(),
    failWith: null,
    requests: [],
    install(clients) {
      const mock = mockClient(clients.guardduty);
      mock.on(GetFindingsCommand).callsFake((input: { DetectorId?: string; FindingIds?: string[] }) => {
        state.requests.push({ DetectorId: input.DetectorId, FindingIds: input.FindingIds });
        if (state.failWith) throw state.failWith;
        const findings = (input.FindingIds ?? []).flatMap((id) => {
          const f = state.known.get(id);
          return f ? [f] : [];
        });
        return { Findings: findings, $metadata: { requestId: `gd-${state.requests.length}` } };
      });
      mock.on(StartMalwareScanCommand).rejects(new BadRequestException({ message: "Malware Protection is not enabled", $metadata: { httpStatusCode: 400 } }));
    },
  };
  return state;
}
