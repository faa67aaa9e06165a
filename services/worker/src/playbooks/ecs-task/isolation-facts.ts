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
