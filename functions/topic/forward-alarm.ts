// Subscribed to the alarm topic: posts each alarm notification to the chat webhook as one short
// line. SNS cannot deliver to Slack/Teams/Chime webhooks itself (an HTTPS subscription must be
// confirmed by the endpoint). A failed post fails the invocation, which Lambda retries twice.
import type { SNSEvent } from 'aws-lambda';
import { forwardNotices } from '#core/alarm-notice.ts';
import { logger } from '#middleware/logger.ts';
import { alarmForwarder, type AlarmForwarderDeps } from '#wiring/alarm-forwarder.ts';

/** The handler over its dependencies, made on first use (tests inject an environment and a fetch). */
export function forwardAlarmHandler(deps: () => AlarmForwarderDeps) {
  let made: AlarmForwarderDeps | undefined;
  return async (event: SNSEvent): Promise<void> => {
    made ??= deps();
    const notices = event.Records.map((r) => ({ subject: r.Sns.Subject, message: r.Sns.Message }));
    const posted = await forwardNotices(made.chat, notices);
    logger.info('alarm forwarded', { notices: posted });
  };
}

export const handler = forwardAlarmHandler(() => alarmForwarder());
