// What AWS documents about changing an ECS task's network interface, cited in the plan and in
// the record of a refusal.

/** AWS's documentation on task ENIs, quoted. */
export const TASK_ENI_DOCS =
  'ECS: "These ENIs are visible in the Amazon EC2 console for your account. Your account can\'t detach or modify the ENIs." ' +
  '(Amazon ECS Developer Guide, "Allocate a network interface for an Amazon ECS task", task-networking-awsvpc.html); ' +
  'EC2: "you can\'t change other properties of a requester-managed network interface" (EC2 User Guide, requester-managed-eni.html)';

/** The plan's word on isolating a requester-managed task ENI, which plan mode cannot try. */
export const MAY_BE_REFUSED =
  `The task ENI is managed by ECS (a requester-managed interface), and AWS documents that an account cannot modify it (${TASK_ENI_DOCS}). ` +
  "The isolation is tried anyway; if AWS refuses it, the ENI is put back on its groups, this step is recorded unavailable with " +
  "AWS's answer, and stopping the task (stop-task) is offered for approval as the containment left.";

/**
 * What isolating a Fargate task's ENI also cuts: "Starting with platform version 1.4.0, all Amazon
 * ECS on Fargate tasks receive a single elastic network interface (referred to as the task ENI) and
 * all network traffic flows through that ENI within your VPC" ("Migrating to Linux platform
 * version 1.4.0 on Amazon ECS", ECS Developer Guide): the platform's own traffic too.
 */
export const FARGATE_ENI_CARRIES =
  "On Fargate (platform version 1.4.0 and later) the task ENI carries the platform's traffic for the task too: once it is " +
  "isolated, container logs no longer reach CloudWatch Logs (a container whose log driver runs in blocking mode may stall on writing them), " +
  "and a container that restarts cannot pull its image or read its secrets. Logs written before isolation are kept.";
