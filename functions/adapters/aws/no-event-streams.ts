// Stand-in for @smithy/core/event-streams in Lambda bundles only (lib/bundling.ts aliases it here).
// The SDK loads that module with a dynamic import, and only when an operation has an event-stream
// member; none of the operations NexChat calls (DynamoDB, @connections, Secrets Manager, SES, SNS,
// S3 presigning, HEAD, DELETE and list) has one. A single-file bundle would otherwise inline its ~15 KB into every route and parse it at
// every cold start. If a future operation ever needs it, this says so instead of failing obscurely.
function unsupported(): never {
  throw new Error('event streams are not bundled into NexChat Lambdas (see functions/adapters/aws/no-event-streams.ts)');
}

export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}

export const eventStreamSerdeProvider = unsupported;

/**
 * The S3 client resolves its event-stream config at construction (for SelectObjectContent, which
 * NexChat never calls): the config passes through unchanged, and the marshaller is never asked for.
 */
export const resolveEventStreamSerdeConfig = <T>(input: T): T => input;
