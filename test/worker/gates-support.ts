// Shared by the gates tests (test/worker/gates-*.test.ts); the implementations live in the test
// kit: the AWS call record in test/support/aws-calls.ts, policy files in test/support/policy.ts,
// GuardDuty's side of the confirmation gate in test/support/guardduty.ts.
export { createCallLog, type CallLog } from "../support/aws-calls.js";
export { asSdkFinding, createMockGuardDuty, type MockGuardDuty } from "../support/guardduty.js";
export { policyAllowing, policyFile } from "../support/policy.js";
