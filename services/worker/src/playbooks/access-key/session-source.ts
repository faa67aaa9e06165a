// Where a role session's credentials come from, when the finding tells: an EC2 instance's
// instance profile. Revoking the role's sessions does not stop the instance handing out new ones
// (to its workload, and to an attacker who still runs code on it or reads its metadata service):
// the plan must say that the instance's own remediation is what cuts the source.

/** An EC2 instance id as the instance profile's session name carries it (`AROA…:i-…`). */
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** GuardDuty's finding types for an instance's credentials used elsewhere. */
const INSTANCE_CREDENTIAL_TYPES = /^UnauthorizedAccess:IAMUser\/InstanceCredentialExfiltration\./;

/**
 * The instance whose profile issued the session: its id when the session name is one (EC2 names
 * instance profile sessions after the instance), "an instance" when only the finding type says
 * the credentials are an instance's, null when nothing says so.
 */
export function instanceSourceOf(sessionName: string | null, findingType: string | null): string | null {
  if (sessionName !== null && INSTANCE_ID.test(sessionName)) return sessionName;
  return findingType !== null && INSTANCE_CREDENTIAL_TYPES.test(findingType) ? "an instance" : null;
}
