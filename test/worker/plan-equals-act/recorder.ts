// Every changing call the in-process worker sends, recorded through SDK middleware on each of its
// AWS clients (every service of core's client table, so a playbook on any of them is seen), with
// its parameters, its answer, and the step that was running when it was sent: read from Postgres
// (the step runner marks a step `running` before its check and act), never from the code under test.
import type { AwsClients, AwsServiceName } from "@gdr/core/aws/clients";
import { AWS_SERVICES } from "@gdr/core/aws/services";
import type { InitializeMiddleware, MiddlewareStack } from "@smithy/types";
import { toJson } from "../../../services/worker/src/engine/calls.js";
import type { JsonObject } from "../../../services/worker/src/engine/step.js";
import type { TestDatabase } from "../../support/index.js";

/** Reads (Describe*, Get*, List*) change nothing and are not part of a plan. */
const READ = /^(Describe|Get|List)/;

export interface SentCall {
  /** The remediation whose step was running, or null when no single step was. */
  remediationId: string | null;
  step: string | null;
  service: string;
  operation: string;
  params: JsonObject;
  /** The answer's top-level fields (an id a later call uses), or null when AWS answered an error. */
  answer: Record<string, unknown> | null;
}

export interface CallRecorder {
  calls: SentCall[];
  /** Installs the recording middleware on a worker's client set (LaneOptions.awsMiddleware). */
  install(clients: AwsClients): void;
  /** The calls sent while `step` of `remediationId` was running, in the order they were sent. */
  sentBy(remediationId: string, step: string): SentCall[];
}

interface WithMiddleware {
  middlewareStack: MiddlewareStack<object, object>;
}

let installed = 0;

export function createCallRecorder(db: TestDatabase): CallRecorder {
  const calls: SentCall[] = [];

  async function runningStep(): Promise<{ remediationId: string | null; step: string | null }> {
    const { rows } = await db.pool.query<{ remediation_id: string; name: string }>(
      `SELECT remediation_id::text AS remediation_id, name FROM remediation_steps WHERE status = 'running'`,
    );
    // Scenarios run one remediation at a time: anything else is left unattributed, and fails.
    const only = rows.length === 1 ? rows[0] : undefined;
    return only ? { remediationId: only.remediation_id, step: only.name } : { remediationId: null, step: null };
  }

  function record(client: WithMiddleware, service: AwsServiceName): void {
    const middleware: InitializeMiddleware<object, object> = (next, context) => async (args) => {
      const operation = String(context.commandName).replace(/Command$/, "");
      if (READ.test(operation)) return next(args);
      const input = toJson(args.input);
      const params = input !== null && typeof input === "object" && !Array.isArray(input) ? input : {};
      const call: SentCall = { ...(await runningStep()), service, operation, params, answer: null };
      calls.push(call);
      const out = await next(args);
      call.answer = { ...(out.output as Record<string, unknown>) };
      return out;
    };
    client.middlewareStack.add(middleware, { step: "initialize", name: `plan-equals-act-${++installed}` });
  }

  return {
    calls,
    install(clients) {
      for (const service of Object.keys(AWS_SERVICES) as AwsServiceName[]) record(clients[service] as unknown as WithMiddleware, service);
    },
    sentBy: (remediationId, step) => calls.filter((c) => c.remediationId === remediationId && c.step === step),
  };
}
