// The one place a step's calls go through, in each of the three modes a step runs in. A step's
// act is written once; the plan an approver sees and the dry-run are that same code run with its
// changes recorded instead of sent, so nothing can make the plan and the act drift apart.
import type { AwsClients, AwsServiceName } from "@gdr/core/aws/clients";
import { awsRequestId, classifyAwsError, isDryRunSuccess } from "@gdr/core/aws/errors";
import type { MetadataBearer } from "@smithy/types";
import { isPlaceholder } from "./placeholders.js";
import type { ApiFamily, AwsCommand, Change, Json, JsonObject, OutsideChange, PlannedCall, StepContext, StepMode } from "./step.js";

/** One permission check of a dry-run. */
export interface DryRunResult {
  permitted: boolean;
  detail: string;
}

/** What a plan or dry-run run of a step recorded. */
export interface Recorded {
  calls: PlannedCall[];
  permissions: DryRunResult[];
  /** Why the step makes no call (its check's note: "does not apply: …", "left Inactive: …"). */
  note?: string;
}

interface CallBase {
  aws: AwsClients;
  signal: AbortSignal;
  throttle(family: ApiFamily): Promise<void>;
  noteRequestId(requestId: string | undefined): void;
}

type Sender = { send(command: unknown, options: { abortSignal: AbortSignal }): Promise<MetadataBearer> };

/** Services whose changing calls take EC2's `DryRun: true` (a permission check that changes nothing). */
const DRY_RUN_SERVICES: ReadonlySet<AwsServiceName> = new Set(["ec2"]);

/** AWS's read operations: reads are sent in every mode, so nothing else may pass for one. */
const READ_OPERATION = /^(?:Describe|Get|List)[A-Z]/;

/** A step sent a call through ctx.read that is not a read: a bug in the step, never retried. */
export class NotAReadError extends Error {
  override readonly name = "NotAReadError";
}

/** A read-only step (identify) tried to change something: a bug in the step, never retried. */
export class ReadOnlyStepError extends Error {
  override readonly name = "ReadOnlyStepError";
}

/**
 * The context a read-only step runs with: it runs before any approval and in dry-run mode, so a
 * change from it is refused instead of sent.
 */
export function readOnlyView<C extends Pick<StepContext, "change" | "changeOutside">>(ctx: C, step: string): C {
  const refuse = (): Promise<never> => Promise.reject(new ReadOnlyStepError(`read-only step ${step} tried to change something`));
  return { ...ctx, change: refuse, changeOutside: refuse };
}

/** The operation a command sends: `CreateTagsCommand` → `CreateTags`. */
export function operationOf(command: object): string {
  return command.constructor.name.replace(/Command$/, "");
}

/**
 * Turns an SDK input (plain objects, strings, numbers, booleans, arrays, dates) into Json for a
 * frozen plan: `undefined` fields are dropped, anything Json cannot hold is refused.
 */
export function toJson(value: unknown): Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("a call parameter is not a finite number");
    return value;
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toJson(item);
    return out;
  }
  throw new TypeError(`a call parameter of type ${typeof value} cannot be stored as JSON`);
}

function paramsOf(input: object): JsonObject {
  const json = toJson(input);
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new TypeError("call parameters must be an object");
  return json;
}

function placeholdersIn(value: unknown, into: Set<string>): void {
  if (isPlaceholder(value)) into.add(value);
  else if (Array.isArray(value)) for (const item of value) placeholdersIn(item, into);
  else if (value !== null && typeof value === "object") for (const item of Object.values(value)) placeholdersIn(item, into);
}

function mentions(value: Json, placeholders: ReadonlySet<string>): boolean {
  if (typeof value === "string") return placeholders.has(value);
  if (Array.isArray(value)) return value.some((v) => mentions(v, placeholders));
  if (value !== null && typeof value === "object") return Object.values(value).some((v) => mentions(v, placeholders));
  return false;
}

/**
 * The read / change functions of a step context for a mode, and what they recorded. In `act` they
 * send; in `plan` and `dry_run` changes are recorded (with the placeholders a change hands back in
 * place of its answer), and in `dry_run` each change is also checked where the service can.
 */
export function callsFor(mode: StepMode, base: CallBase): Pick<StepContext, "read" | "change" | "changeOutside"> & { recorded: Recorded } {
  const recorded: Recorded = { calls: [], permissions: [] };
  // Strings handed back in place of answers: a change whose params hold one cannot be checked yet.
  const placeholders = new Set<string>();

  async function send<O extends MetadataBearer>(service: AwsServiceName, family: ApiFamily, command: object): Promise<O> {
    await base.throttle(family);
    const client = base.aws[service] as unknown as Sender;
    try {
      const out = await client.send(command, { abortSignal: base.signal });
      base.noteRequestId(awsRequestId(out));
      return out as O;
    } catch (err) {
      base.noteRequestId(awsRequestId(err));
      throw err;
    }
  }

  async function dryRunCheck(service: AwsServiceName, family: ApiFamily, command: object, operation: string, params: JsonObject, tolerates: readonly string[]): Promise<DryRunResult> {
    if (!DRY_RUN_SERVICES.has(service)) return { permitted: true, detail: `${operation}: no DryRun for ${service}; not checked` };
    if (mentions(params, placeholders)) return { permitted: true, detail: `${operation}: not checked, it uses the answer of an earlier call` };
    const Ctor = command.constructor as new (input: object) => object;
    const input = (command as { input: object }).input;
    try {
      await send(service, family, new Ctor({ ...input, DryRun: true }));
      // Only possible if EC2 ignored DryRun: say so rather than pretend it was checked.
      return { permitted: true, detail: `${operation}: answered without DryRunOperation` };
    } catch (err) {
      if (isDryRunSuccess(err)) return { permitted: true, detail: `${operation}: DryRunOperation (would succeed)` };
      const c = classifyAwsError(err);
      if (c.code === "UnauthorizedOperation") return { permitted: false, detail: `${operation}: UnauthorizedOperation (not permitted)` };
      // E.g. revoking a rule an earlier recorded call would have added: EC2 checks the rule, act takes the answer as done.
      if (tolerates.includes(c.code)) return { permitted: true, detail: `${operation}: ${c.code} (act takes this answer as done)` };
      if (c.kind !== "fatal") throw err;
      const status = c.httpStatus === undefined ? "" : ` (HTTP ${c.httpStatus})`;
      return { permitted: false, detail: `${operation}: ${c.code}${status} (would fail)` };
    }
  }

  function record(service: string, operation: string, params: JsonObject, planned: unknown): void {
    recorded.calls.push({ service, operation, params });
    placeholdersIn(planned, placeholders);
  }

  return {
    recorded,
    async read<I extends object, O extends MetadataBearer>(service: AwsServiceName, family: ApiFamily, command: AwsCommand<I, O>): Promise<O> {
      // Reads are sent in every mode, before any approval: only what AWS names a read may go here.
      const operation = operationOf(command);
      if (!READ_OPERATION.test(operation)) throw new NotAReadError(`${operation} is not a read (Describe*, Get*, List*): send it with ctx.change`);
      return send<O>(service, family, command);
    },
    async change<I extends object, O extends MetadataBearer>(call: Change<I, O>): Promise<O> {
      if (mode === "act") return send<O>(call.service, call.family, call.command);
      const operation = operationOf(call.command);
      const params = paramsOf(call.command.input);
      if (mode === "dry_run") recorded.permissions.push(await dryRunCheck(call.service, call.family, call.command, operation, params, call.tolerates ?? []));
      record(call.service, operation, params, call.planned);
      return { $metadata: {}, ...call.planned } as O;
    },
    async changeOutside<T>(call: OutsideChange<T>): Promise<T> {
      if (mode === "act") {
        await base.throttle(call.family);
        return call.send(base.signal);
      }
      if (mode === "dry_run") recorded.permissions.push({ permitted: true, detail: `${call.operation}: no dry-run for ${call.service}; not checked` });
      record(call.service, call.operation, call.params, call.planned);
      return call.planned as T;
    },
  };
}
