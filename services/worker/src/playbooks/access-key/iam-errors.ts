// IAM's "not there" answer. The wire code is NoSuchEntity; SDK v3 names the modeled error
// NoSuchEntityException, which is what core's classifier reads (the error's name).
import { isErrorCode } from "../kit/index.js";

export function isNoSuchEntity(err: unknown): boolean {
  return isErrorCode(err, "NoSuchEntityException", "NoSuchEntity");
}
