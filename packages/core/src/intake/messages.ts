import type { ReceiptReason } from "../findings/reasons.js";
import type { Notice } from "./notices.js";

/** An SQS message as the ingest path sees it. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** ApproximateReceiveCount: how many times SQS has handed this message out. */
  receiveCount: number;
}

export type Outcome = "accepted" | "duplicate" | "ignored" | "rejected";

/** What became of one message, as recorded in its ingest_receipts row. */
export interface MessageOutcome {
  messageId: string;
  outcome: Outcome;
  reason: ReceiptReason;
  findingId: string | null;
  /** The message had been recorded already (SQS delivered it again); nothing new was written. */
  redelivered: boolean;
  /** Remediations this message created (0 or 1 today; one per affected resource). */
  remediationsCreated: number;
  /** What people must be told once this message's transaction has committed (see notices.ts). */
  notices?: Notice[];
}
