import { isTransientDbError } from "@gdr/core/db/errors";
import type { Histogram } from "prom-client";

export type BatchStage = "record" | "enqueue" | "delete";
export type FailureKind = "database" | "redis" | "sqs" | "unknown";

/** A batch failure tagged with the stage it happened in, so logs and metrics name the dependency. */
export class BatchStageError extends Error {
  override readonly name = "BatchStageError";
  constructor(
    readonly stage: BatchStage,
    override readonly cause: unknown,
  ) {
    super(`${stage} stage failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Runs one stage of a batch, timing it and tagging any failure with it. */
export async function stage<T>(name: BatchStage, work: () => Promise<T>, timer?: Histogram<"stage">): Promise<T> {
  const end = timer?.startTimer({ stage: name });
  try {
    return await work();
  } catch (err) {
    throw new BatchStageError(name, err);
  } finally {
    end?.();
  }
}

/** A bounded label for a failed batch: the dependency that failed, judged by stage and error code. */
export function classifyFailure(err: unknown): FailureKind {
  if (!(err instanceof BatchStageError)) return "unknown";
  switch (err.stage) {
    case "record":
      return "database";
    case "enqueue":
      // The relay reads and marks outbox rows in Postgres around the BullMQ add.
      return isTransientDbError(err.cause) ? "database" : "redis";
    case "delete":
      return "sqs";
  }
}
