// The playbook kit: what every playbook's steps share. A step imports from here and from the
// engine's step contract (engine/step.ts); the engine sends, records, throttles and dry-runs.
export { globalArn, partitionOf, regionalArn } from "./arn.js";
export { checkingStep, type Inspection } from "./checking-step.js";
export { awsRequestId, classifyAwsError, describeError, errorName, httpStatus, isErrorCode, isTransient, type ClassifiedAwsError } from "./errors.js";
export { expectId, resourceKeyAs, UnexpectedIdentifierError, type IdentifierPattern } from "./ids.js";
export { OutputShapeError, parseOutput, toJson, toJsonObject, type Json, type JsonObject } from "./json.js";
export { answeredId, isPlaceholder, resultOf } from "./planned.js";
export { idOf } from "./schema.js";
export {
  EscalateRemediation,
  notAvailable,
  SkipRemediation,
  VerificationError,
  type CheckResult,
  type NotAvailable,
  type Step,
  type StepContext,
} from "../../engine/step.js";
