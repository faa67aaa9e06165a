// IAM's answers a step turns into an outcome of its own rather than a failure.
// IAM's "not there" answer. The wire code is NoSuchEntity; SDK v3 names the modeled error
// NoSuchEntityException, which is what core's classifier reads (the error's name).
import { isErrorCode } from "../kit/index.js";

export function isNoSuchEntity(err: unknown): boolean {
  return isErrorCode(err, "NoSuchEntityException", "NoSuchEntity");
}

/**
 * IAM refuses to change a role AWS manages (IAM Identity Center's AWSReservedSSO_* roles among
 * them): wire code UnmodifiableEntity, modeled UnmodifiableEntityException. Never worth a retry.
 */
export function isUnmodifiableEntity(err: unknown): boolean {
  return isErrorCode(err, "UnmodifiableEntityException", "UnmodifiableEntity");
}

/** IAM's quota answer (LimitExceeded, modeled LimitExceededException): on PutRolePolicy, the role's inline policies are full. */
export function isLimitExceeded(err: unknown): boolean {
  return isErrorCode(err, "LimitExceededException", "LimitExceeded");
}
