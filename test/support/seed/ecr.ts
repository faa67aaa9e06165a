// Seeds, in moto, what the compromised-image playbook works on: ECR repositories and images, and
// reads back what it may change (is the image still there, was it scanned, is a task definition
// still ACTIVE). Tasks that use the images come from ./ecs.ts (clusters, task definitions,
// Fargate and bridge tasks, service tasks).
//
// moto notes (../shared/MOTO.md): PutImage computes `imageDigest` from the manifest's layer
// digests, not from its bytes, so every image seeded here gets layer digests of its own (random),
// or two images would collide on one digest; the digest is read from moto's answer, never
// computed here. StartImageScan answers a canned finding; a second scan of an image answers
// LimitExceededException, as basic scanning's one scan per image a day does.
import { randomBytes } from "node:crypto";
import {
  CreateRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  ECRClient,
  PutImageCommand,
} from "@aws-sdk/client-ecr";
import { DescribeTaskDefinitionCommand, type ECSClient } from "@aws-sdk/client-ecs";
import type { EcsFindingOptions, JsonObject } from "@gdr/samples/findings";
import { awsTestEnv } from "../aws-env.js";
import {
  findingForTask,
  registerTaskDefinition,
  runTask,
  seedCluster,
  seedServiceTask,
  seedTaskNetwork,
  type EcsSeedClients,
  type SeededCluster,
  type SeededService,
  type SeededTask,
  type SeededTaskDefinition,
} from "./ecs.js";

/** An ECR client straight to moto (world.aws has none). */
export function ecrClient(endpoint: string): ECRClient {
  const env = awsTestEnv(endpoint);
  return new ECRClient({ region: env.region, endpoint: env.endpoint, credentials: env.credentials });
}

const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

export interface SeededRepository {
  registryId: string;
  repositoryName: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>` */
  repositoryUri: string;
}

export async function seedRepository(ecr: ECRClient, name = `app-${hex(4)}`): Promise<SeededRepository> {
  const out = await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  const repo = out.repository;
  if (!repo?.repositoryUri || !repo.registryId) throw new Error("moto returned no repository");
  return { registryId: repo.registryId, repositoryName: name, repositoryUri: repo.repositoryUri };
}

export interface SeededImage {
  repository: SeededRepository;
  /** moto's digest for the image (from its PutImage answer). */
  digest: string;
  tag: string;
  /** `<repositoryUri>:<tag>`, as a task definition or a finding names it. */
  reference: string;
  /** `<repositoryUri>@<digest>`. */
  digestReference: string;
}

/** A docker v2 manifest whose config and layer digests are random: an image of its own. */
function uniqueManifest(): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.v2+json",
    config: { mediaType: "application/vnd.docker.container.image.v1+json", size: 1469, digest: `sha256:${hex(32)}` },
    layers: [
      { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 2_811_321, digest: `sha256:${hex(32)}` },
      { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 1_024, digest: `sha256:${hex(32)}` },
    ],
  });
}

/** Pushes one image under `tag` (and any `moreTags`) into the repository. */
export async function pushImage(ecr: ECRClient, repository: SeededRepository, tag: string, moreTags: readonly string[] = []): Promise<SeededImage> {
  const manifest = uniqueManifest();
  const out = await ecr.send(new PutImageCommand({ repositoryName: repository.repositoryName, imageTag: tag, imageManifest: manifest }));
  const digest = out.image?.imageId?.imageDigest;
  if (!digest) throw new Error("moto returned no image digest");
  for (const more of moreTags) await ecr.send(new PutImageCommand({ repositoryName: repository.repositoryName, imageTag: more, imageManifest: manifest }));
  return { repository, digest, tag, reference: `${repository.repositoryUri}:${tag}`, digestReference: `${repository.repositoryUri}@${digest}` };
}

export interface ImageView {
  present: boolean;
  tags: string[];
  /** The scan's status as ECR reports it (null: never scanned). */
  scanStatus: string | null;
}

export async function viewImage(ecr: ECRClient, image: Pick<SeededImage, "repository" | "digest">): Promise<ImageView> {
  const imageId = { imageDigest: image.digest };
  let tags: string[] = [];
  try {
    const out = await ecr.send(new DescribeImagesCommand({ repositoryName: image.repository.repositoryName, imageIds: [imageId] }));
    const found = out.imageDetails?.[0];
    if (!found) return { present: false, tags: [], scanStatus: null };
    tags = [...(found.imageTags ?? [])].sort();
  } catch (err) {
    if ((err as { name?: string }).name === "ImageNotFoundException") return { present: false, tags: [], scanStatus: null };
    throw err;
  }
  let scanStatus: string | null = null;
  try {
    const scan = await ecr.send(new DescribeImageScanFindingsCommand({ repositoryName: image.repository.repositoryName, imageId }));
    scanStatus = scan.imageScanStatus?.status ?? null;
  } catch (err) {
    if ((err as { name?: string }).name !== "ScanNotFoundException") throw err;
  }
  return { present: true, tags, scanStatus };
}

/** ACTIVE or INACTIVE, as ECS reports the task definition now. */
export async function taskDefinitionStatus(ecs: ECSClient, taskDefinitionArn: string): Promise<string | null> {
  const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
  return out.taskDefinition?.status ?? null;
}

// ---------------------------------------------------------------------------------------------
// An account where one image is compromised: its users across two clusters, and an unrelated
// image with a task of its own that must be left alone.

export interface ImageWorld {
  image: SeededImage;
  other: SeededImage;
  clusters: [SeededCluster, SeededCluster];
  /** Runs the image's tag in cluster 1 (a standalone Fargate task). */
  task: SeededTask;
  /** A service's task in cluster 2 running the image. */
  service: SeededService;
  /** A task in cluster 1 whose SECOND container runs the image (moto describes only the first). */
  sidecarTask: SeededTask;
  /** An ACTIVE definition naming the image by digest that nothing runs. */
  idleDefinition: SeededTaskDefinition;
  /** The unrelated image's task (cluster 1) and its definition. */
  otherTask: SeededTask;
  /** Another image of the SAME repository (tag 1.9.0, other bytes), and its task in cluster 1: left alone too. */
  sibling: SeededImage;
  siblingTask: SeededTask;
}

/** Seeds the image world in moto's account and region. */
export async function seedImageWorld(clients: EcsSeedClients & { ecr: ECRClient }): Promise<ImageWorld> {
  const repo = await seedRepository(clients.ecr);
  const image = await pushImage(clients.ecr, repo, "1.8.2");
  const other = await pushImage(clients.ecr, await seedRepository(clients.ecr), "2.0.0");
  const network = await seedTaskNetwork(clients);
  const clusters: [SeededCluster, SeededCluster] = [await seedCluster(clients), await seedCluster(clients)];
  const task = await runTask(clients, { cluster: clusters[0], image: image.reference, network });
  const service = await seedServiceTask(clients, { cluster: clusters[1], network, image: image.reference, loadBalanced: false });
  const sidecarDefinition = await registerTaskDefinition(clients, {
    networkMode: "awsvpc",
    containers: [
      { name: "proxy", image: "public.ecr.aws/nginx/nginx:1.27", port: 8080 },
      { name: "app", image: image.reference },
    ],
  });
  const sidecarTask = await runTask(clients, { cluster: clusters[0], taskDefinition: sidecarDefinition, network });
  const idleDefinition = await registerTaskDefinition(clients, { networkMode: "awsvpc", containers: [{ name: "app", image: image.digestReference }] });
  const otherTask = await runTask(clients, { cluster: clusters[0], image: other.reference, network });
  const sibling = await pushImage(clients.ecr, repo, "1.9.0");
  const siblingTask = await runTask(clients, { cluster: clusters[0], image: sibling.reference, network });
  return { image, other, clusters, task, service, sidecarTask, idleDefinition, otherTask, sibling, siblingTask };
}

/** A Runtime Monitoring finding on `task` saying a malicious file came with its image (no modifying process). */
export function imageFinding(task: SeededTask, options: EcsFindingOptions = {}): JsonObject {
  return findingForTask(task, { type: "Execution:Runtime/MaliciousFileExecuted", severity: 8, ...options });
}
