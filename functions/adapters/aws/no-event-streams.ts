// Stand-in for @smithy/core/event-streams in Lambda bundles only (lib/bundling.ts aliases it here).
// Most clients load that module with a dynamic import, and only when an operation has an event-stream
// member; none of the operations NexChat calls (DynamoDB, @connections, SES, SNS, SQS, S3 object
// reads, writes, HEAD, deletes and listings) has one. A single-file bundle would otherwise inline its
// ~15 KB into every route and parse it at every cold start. If a future operation ever needs it, this
// says so instead of failing obscurely.
function unsupported(): never {
  throw new Error('event streams are not bundled into NexChat Lambdas (see functions/adapters/aws/no-event-streams.ts)');
}

export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}

/** A marshaller that refuses to work: S3's client builds one when it is constructed (SelectObjectContent streams), and never uses it for our calls. */
export const eventStreamSerdeProvider = () => ({ serialize: unsupported, deserialize: unsupported });

/** S3's client imports this statically and calls it at construction: the same as the real one, over the stand-in provider. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (config: T) => unknown }>(input: T) =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });
