// The laptop's stand-in for an SQS queue with a Lambda consumer (event source mapping with
// ReportBatchItemFailures and a redrive policy): a sent message is handed to the consumer soon
// after (or after its delivery delay), a message the consumer reports as failed comes back after a short visibility delay, and
// after maxReceiveCount attempts it moves to the dead-letter list (and a JSON line in a file).
// Small and in-process, like the local gateways; faithful to the AWS event shapes.
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext, type AnyHandler } from './lambda.ts';

export interface LocalQueueOptions {
  name: string;
  /** The consumer: called with an SQSEvent, answers with batchItemFailures. */
  handler: AnyHandler;
  /** Attempts before a message is dead-lettered (the redrive policy's maxReceiveCount). */
  maxReceiveCount?: number;
  /** How long a failed message stays invisible before its next attempt. */
  retryDelayMs?: number;
  /** Dead-lettered messages are appended here, one JSON line each (the message body is not written). */
  deadLetterFile?: string;
}

interface InFlight {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: number;
}

export class LocalQueue {
  readonly deadLetters: { messageId: string; receiveCount: number }[] = [];
  private readonly options: Required<Omit<LocalQueueOptions, 'deadLetterFile'>> & { deadLetterFile?: string };
  private readonly timers = new Set<NodeJS.Timeout>();
  private pending = 0;
  private idle: (() => void)[] = [];
  private stopped = false;

  constructor(options: LocalQueueOptions) {
    this.options = { maxReceiveCount: 3, retryDelayMs: 25, ...options };
  }

  /**
   * SendMessage: the consumer gets it on the next turn of the event loop, or after `delaySeconds`
   * (SendMessage's DelaySeconds, 0 to 900: the message stays invisible that long).
   */
  send(body: string, options: { delaySeconds?: number } = {}): string {
    if (this.stopped) throw new Error(`queue ${this.options.name} is stopped`);
    const delaySeconds = options.delaySeconds ?? 0;
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900)
      throw new Error(`DelaySeconds must be an integer from 0 to 900, got ${delaySeconds}`);
    const message: InFlight = { messageId: randomUUID(), body, receiveCount: 0, sentAt: Date.now() };
    this.schedule(message, delaySeconds * 1000);
    return message.messageId;
  }

  /** Resolves when no message is waiting or being handled (tests, shutdown). */
  async drained(): Promise<void> {
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending = 0;
    this.idle.splice(0).forEach((resolve) => resolve());
  }

  private schedule(message: InFlight, delayMs: number): void {
    this.pending++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.deliver(message).finally(() => {
        this.pending = Math.max(0, this.pending - 1);
        if (this.pending === 0) this.idle.splice(0).forEach((resolve) => resolve());
      });
    }, delayMs);
    this.timers.add(timer);
  }

  private async deliver(message: InFlight): Promise<void> {
    if (this.stopped) return;
    message.receiveCount++;
    const event: SQSEvent = {
      Records: [
        {
          messageId: message.messageId,
          receiptHandle: `${message.messageId}#${message.receiveCount}`,
          body: message.body,
          attributes: {
            ApproximateReceiveCount: String(message.receiveCount),
            SentTimestamp: String(message.sentAt),
            SenderId: 'local',
            ApproximateFirstReceiveTimestamp: String(message.sentAt),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${this.options.name}`,
          awsRegion: 'us-east-1',
        },
      ],
    };
    let failed: boolean;
    try {
      const result = (await this.options.handler(event, lambdaContext({ id: this.options.name, timeoutSeconds: 10 }))) as SQSBatchResponse | undefined;
      failed = Boolean(result?.batchItemFailures?.some((f) => f.itemIdentifier === message.messageId));
    } catch {
      failed = true; // a crashed invocation fails the whole batch, as in Lambda
    }
    if (!failed || this.stopped) return;
    if (message.receiveCount >= this.options.maxReceiveCount) {
      this.deadLetters.push({ messageId: message.messageId, receiveCount: message.receiveCount });
      if (this.options.deadLetterFile) {
        appendFileSync(
          this.options.deadLetterFile,
          `${JSON.stringify({ queue: this.options.name, messageId: message.messageId, receiveCount: message.receiveCount, at: new Date().toISOString() })}\n`,
          { mode: 0o600 },
        );
      }
      return;
    }
    this.schedule(message, this.options.retryDelayMs);
  }
}
