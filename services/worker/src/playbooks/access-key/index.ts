// The Credentials playbook (GuardDuty resource type AccessKey), after AWS's guidance for
// potentially compromised credentials. See README.md for the steps, the order and why.
import type { Playbook } from "../../engine/step.js";
import { createIdentifyStep, type IdentifyOptions } from "./01-identify.js";
import { deactivateKey } from "./02-deactivate-key.js";
import { revokeSessions } from "./03-revoke-sessions.js";
import { verifyContainment } from "./04-verify.js";
import { ACCESS_KEY_FAMILIES } from "./families.js";
import { STEP } from "./names.js";
import { reactivateKey } from "./release/reactivate-key.js";
import { removeRevokePolicy } from "./release/remove-revoke-policy.js";

export type AccessKeyPlaybookOptions = IdentifyOptions;

export function accessKeyPlaybook(options: AccessKeyPlaybookOptions = {}): Playbook {
  return {
    name: "access-key",
    steps: [createIdentifyStep(options), deactivateKey, revokeSessions, verifyContainment],
    release: [reactivateKey, removeRevokePolicy],
    // Both: each does nothing when it does not fit the credentials, so "both done" is contained.
    containment: [STEP.deactivateKey, STEP.revokeSessions],
    // Credentials are not taken off a network: the per-minute isolation cap does not apply.
    isolates: false,
    families: ACCESS_KEY_FAMILIES,
  };
}
