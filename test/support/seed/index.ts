// Per-playbook seeding: each playbook's tests seed their world in moto through seed/<playbook>.ts
// and read it back through the same file (README.md). Shared here: the account everything is
// seeded in.
export { MOTO_ACCOUNT_ID } from "../aws-env.js";
export {
  CONTAINMENT_STEPS,
  containmentProblems,
  findingFor,
  ISOLATION_GROUP_NAME,
  RESPONDER_TAG,
  seededEnis,
  seedInstance,
  seedVpc,
  viewInstance,
  vpcGroups,
  type EniView,
  type GroupView,
  type InstanceView,
  type SeedClients,
  type SeededInstance,
  type SeededVpc,
  type SeedInstanceOptions,
  type SnapshotView,
} from "./instance.js";
