// What a chat channel is told about an alarm: one short line from the CloudWatch notification SNS
// delivers (state, alarm name, what it means, why now, a console link). Anything else published to
// the alarm topic is passed on as its subject and a clipped body. No SDK, no I/O.

/** Where a notice goes: the chat webhook (functions/adapters/chat-webhook.ts). */
export interface ChatNoticePort {
  post(text: string): Promise<void>;
}

/** Chat messages stay short; CloudWatch's state reason can run to a kilobyte of datapoints. */
export const MAX_NOTICE_CHARS = 600;

const STATE_MARK: Readonly<Record<string, string>> = { ALARM: '[ALARM]', OK: '[OK]', INSUFFICIENT_DATA: '[NO DATA]' };

/** One notification as SNS delivers it: the subject (may be absent) and the message body. */
export interface TopicNotification {
  readonly subject?: string | null;
  readonly message: string;
}

/** The text for one notification: a CloudWatch alarm state change, or whatever else was published. */
export function alarmNotice(n: TopicNotification): string {
  const alarm = parseAlarm(n.message);
  if (!alarm) return clip([n.subject, n.message].filter(Boolean).join(': '), MAX_NOTICE_CHARS);
  const mark = STATE_MARK[alarm.state] ?? `[${alarm.state}]`;
  const body = [`${mark} ${alarm.name}${alarm.description ? `: ${alarm.description}` : ''}`, alarm.reason].filter(Boolean).join('\n');
  const link = consoleLink(alarm.arn, alarm.name);
  // The link is kept whole: a clipped URL is worse than none.
  return link ? `${clip(body, MAX_NOTICE_CHARS - link.length - 1)}\n${link}` : clip(body, MAX_NOTICE_CHARS);
}

interface AlarmChange {
  name: string;
  state: string;
  description?: string;
  reason?: string;
  arn?: string;
}

function parseAlarm(message: string): AlarmChange | undefined {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.AlarmName !== 'string' || typeof b.NewStateValue !== 'string') return undefined;
  return {
    name: b.AlarmName,
    state: b.NewStateValue,
    ...(typeof b.AlarmDescription === 'string' ? { description: b.AlarmDescription } : {}),
    ...(typeof b.NewStateReason === 'string' ? { reason: b.NewStateReason } : {}),
    ...(typeof b.AlarmArn === 'string' ? { arn: b.AlarmArn } : {}),
  };
}

/** The alarm's page in the CloudWatch console, from the region in its ARN (the message's Region is a display name). */
function consoleLink(arn: string | undefined, name: string): string | undefined {
  const region = arn ? /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):/.exec(arn)?.[1] : undefined;
  if (!region) return undefined;
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(name)}`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Posts one notice per notification, in order; the first failure is thrown (the invocation is retried). */
export async function forwardNotices(chat: ChatNoticePort, notifications: readonly TopicNotification[]): Promise<number> {
  for (const n of notifications) await chat.post(alarmNotice(n));
  return notifications.length;
}
