// Sample findings on leaked credentials (AccessKey) and on a resource type with no playbook (S3).
import { common, finding, hexId, type FindingOptions, type JsonObject } from "./base.js";

export interface AccessKeyFindingOptions extends FindingOptions {
  accessKeyId?: string;
  userType?: string;
  userName?: string;
  principalId?: string;
}

/**
 * Instance credentials used from outside AWS (resourceType "AccessKey"): a temporary ASIA key of an
 * instance role, by default.
 */
export function accessKeyFinding(o: AccessKeyFindingOptions = {}): JsonObject {
  const c = common(o);
  const roleName = o.userName ?? "app-server-role";
  return finding(
    o,
    c,
    {
      type: "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
      severity: 8,
      title: `Credentials for instance role ${roleName} used from external IP address.`,
      description:
        `Credentials that were created exclusively for an EC2 instance through instance role ${roleName} ` +
        "have been used from external IP address 203.0.113.50.",
      featureName: "CloudTrail",
    },
    {
      resourceType: "AccessKey",
      accessKeyDetails: {
        accessKeyId: o.accessKeyId ?? `ASIA${hexId(16, o.seed, "access-key").toUpperCase()}`,
        principalId: o.principalId ?? `AROA${hexId(17, o.seed, "role-id").toUpperCase()}:i-${hexId(17, o.seed, "instance")}`,
        userName: roleName,
        userType: o.userType ?? "AssumedRole",
      },
    },
    {
      action: {
        actionType: "AWS_API_CALL",
        awsApiCallAction: {
          api: "ListBuckets",
          serviceName: "s3.amazonaws.com",
          callerType: "Remote IP",
          remoteIpDetails: {
            ipAddressV4: "203.0.113.50",
            organization: { asn: "64496", asnOrg: "ExampleNet", isp: "ExampleNet", org: "ExampleNet" },
            country: { countryName: "Netherlands" },
            city: { cityName: "Amsterdam" },
            geoLocation: { lat: 52.37, lon: 4.89 },
          },
          affectedResources: {},
        },
      },
    },
  );
}

/** A finding on an S3 bucket: a resource type this service has no playbook for. */
export function s3Finding(o: FindingOptions = {}): JsonObject {
  const c = common(o);
  const bucket = `data-${hexId(8, o.seed, "bucket")}`;
  return finding(
    o,
    c,
    {
      type: "Policy:S3/BucketBlockPublicAccessDisabled",
      severity: 2,
      title: `Amazon S3 Block Public Access was disabled for S3 bucket ${bucket}.`,
      description: `Amazon S3 Block Public Access was disabled for S3 bucket ${bucket} by an IAM user.`,
      featureName: "CloudTrail",
    },
    {
      resourceType: "S3Bucket",
      s3BucketDetails: [
        {
          arn: `arn:${c.partition}:s3:::${bucket}`,
          name: bucket,
          type: "Destination",
          createdAt: 1_700_000_000,
          owner: { id: hexId(64, o.seed, "owner") },
          tags: [],
          defaultServerSideEncryption: { encryptionType: "AES256" },
          publicAccess: { effectivePermission: "NOT_PUBLIC" },
        },
      ],
    },
    {
      action: {
        actionType: "AWS_API_CALL",
        awsApiCallAction: { api: "PutBucketPublicAccessBlock", serviceName: "s3.amazonaws.com" },
      },
    },
  );
}
