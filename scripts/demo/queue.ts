import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

/**
 * The queue an EventBridge rule for GuardDuty findings delivers to, with the dead-letter queue
 * and redrive policy DESIGN.md §1 prescribes (maxReceiveCount 5).
 */
export async function createFindingsQueue(sqs: SQSClient, name: string, visibilityTimeout = 60): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = dlq.QueueUrl;
  if (!dlqUrl) throw new Error("CreateQueue returned no URL for the dead-letter queue");
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }));
  const dlqArn = attributes.Attributes?.["QueueArn"];
  if (!dlqArn) throw new Error("the dead-letter queue has no ARN");
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeout),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
      },
    }),
  );
  if (!queue.QueueUrl) throw new Error("CreateQueue returned no URL");
  return { queueUrl: queue.QueueUrl, dlqUrl };
}
