// Tag keys the evidence this service keeps carries: the same keys every playbook writes (one
// prefix, so an operator finds every mark the service leaves), so that a snapshot taken for an
// instance and one taken for an ECS task's host are found the same way.
export const TAG_FINDING_ID = "guardduty-responder:finding-id";
export const TAG_REMEDIATION_ID = "guardduty-responder:remediation-id";
export const TAG_SOURCE_VOLUME_ID = "guardduty-responder:source-volume-id";
export const TAG_INSTANCE_ID = "guardduty-responder:instance-id";
