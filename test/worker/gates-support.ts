// Shared by the gates tests (test/worker/gates-*.test.ts): a record of every AWS call the
// in-process worker's clients make (to show that no changing call reached moto), a policy file for
// the worker (it reads POLICY_FILE at start), and GuardDuty's side of the confirmation gate.
//
// moto has no GuardDuty GetFindings (../shared/MOTO.md): GuardDuty is mocked with
// aws-sdk-client-mock on the worker's own GuardDuty client (wired in through the client
// factory's middleware hook), while EC2, Auto Scaling and ELBv2 stay on moto.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadRequestException, type Finding, GetFindingsCommand, StartMalwareScanCommand } from "@aws-sdk/client-guardduty";
import type { AwsClients } from "@gdr/core/aws/clients";
import type { JsonObject } from "@gdr/samples/findings";
import type { InitializeMiddleware, MiddlewareStack } from "@smithy/types";
import { mockClient } from "aws-sdk-client-mock";

export interface CallLog {
  /** Every command the worker sent, as `<service>:<Command name without "Command">`. */
  calls: string[];
  /** Commands that change something (anything but Describe/Get/List reads). */
  changing(): string[];
  install(clients: AwsClients): void;
}

const READ = /^(Describe|Get|List)/;

export function createCallLog(): CallLog {
  const calls: string[] = [];
  let n = 0;
  function record<Input extends object, Output extends object>(client: { middlewareStack: MiddlewareStack<Input, Output> }, service: string): void {
    const middleware: InitializeMiddleware<Input, Output> = (next, context) => (args) => {
      calls.push(`${service}:${String(context.commandName).replace(/Command$/, "")}`);
      return next(args);
    };
    client.middlewareStack.add(middleware, { step: "initialize", name: `gates-call-log-${++n}` });
  }
  return {
    calls,
    changing: () => calls.filter((c) => !READ.test(c.split(":")[1] ?? "")),
    install(clients) {
      record(clients.ec2, "ec2");
      record(clients.autoscaling, "autoscaling");
      record(clients.elbv2, "elbv2");
    },
  };
}

/** Writes a policy file (YAML) for a worker and returns its path. */
export function policyFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gdr-gates-policy-"));
  const path = join(dir, "policy.yaml");
  writeFileSync(path, yaml);
  return path;
}

export function policyAllowing(accounts: readonly string[], rules: readonly string[]): string {
  return ["version: 1", `accounts: { allow: [${accounts.map((a) => JSON.stringify(a)).join(", ")}] }`, "rules:", ...rules.map((r) => `  - ${r}`), ""].join("\n");
}

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
