// The ECR and ECS error codes this playbook reads (core classifies; the codes are AWS's, from the
// ECR and ECS API references' Errors sections).
export const ECR = {
  imageNotFound: "ImageNotFoundException",
  /** BatchDeleteImage's failures[].failureCode for a digest the repository does not hold. */
  imageNotFoundFailure: "ImageNotFound",
  repositoryNotFound: "RepositoryNotFoundException",
  scanNotFound: "ScanNotFoundException",
  /** Basic scanning: one scan per image per 24 hours, scan on push included (StartImageScan). */
  limitExceeded: "LimitExceededException",
  unsupportedImageType: "UnsupportedImageTypeException",
  /** What StartImageScan answers where the basic-scan API does not apply (e.g. enhanced scanning). */
  validation: "ValidationException",
} as const;

export const ECS = {
  /** ECS's answer to a request about a task or definition it cannot act on (already inactive, gone). */
  client: "ClientException",
  invalidParameter: "InvalidParameterException",
} as const;
