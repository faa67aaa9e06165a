// The two security groups of a VPC's isolation, found again by their role tag (a claim anyone can
// copy: their rules decide whether the service uses them, see groups.ts) and named for people.

/** The tag key every mark the service leaves carries (one prefix, for an operator to find them). */
export const TAG_ROLE = "guardduty-responder:role";

/**
 * The containment group: the isolation group of the previous procedure, same name and tag, so
 * that every existing isolation group IS a containment group (the migration). It never holds a
 * rule.
 */
export const CONTAINMENT_ROLE = "isolation";
export const CONTAINMENT_GROUP_NAME = "guardduty-responder-isolation";
export const CONTAINMENT_GROUP_DESCRIPTION = "GuardDuty responder quarantine - contained resources - no rules";

/** The transit group: holds the permanent all-traffic egress rule an interface passes through. */
export const TRANSIT_ROLE = "isolation-transit";
export const TRANSIT_GROUP_NAME = "guardduty-responder-transit";
export const TRANSIT_GROUP_DESCRIPTION = "GuardDuty responder transit - all-traffic egress only - interfaces pass through to containment";

export type GroupRole = "containment" | "transit";

export const ROLE_TAG_VALUE: Readonly<Record<GroupRole, string>> = { containment: CONTAINMENT_ROLE, transit: TRANSIT_ROLE };
export const GROUP_NAME: Readonly<Record<GroupRole, string>> = { containment: CONTAINMENT_GROUP_NAME, transit: TRANSIT_GROUP_NAME };
export const GROUP_DESCRIPTION: Readonly<Record<GroupRole, string>> = {
  containment: CONTAINMENT_GROUP_DESCRIPTION,
  transit: TRANSIT_GROUP_DESCRIPTION,
};
