// Composition root of the alarm forwarder: the chat webhook whose URL is the secret named by
// ALARM_WEBHOOK_SECRET_ARN (read through the secrets extension), in the body shape ALARM_WEBHOOK_FORMAT
// names. Built on first use from the environment; tests pass their own environment and fetch.
import { isWebhookFormat, webhookFormats } from '#contract/internal/alarm-webhook.ts';
import { extensionSecretString } from '#adapters/aws/secrets-extension.ts';
import { chatWebhook } from '#adapters/chat-webhook.ts';
import type { ChatNoticePort } from '#core/alarm-notice.ts';

/** Set by lib/constructs/route-function.ts (secretEnvVars.alarmWebhook) and lib/constructs/monitoring.ts. */
export const WEBHOOK_SECRET_ENV = 'ALARM_WEBHOOK_SECRET_ARN';
export const WEBHOOK_FORMAT_ENV = 'ALARM_WEBHOOK_FORMAT';

export interface AlarmForwarderDeps {
  readonly chat: ChatNoticePort;
}

export function alarmForwarder(env: Readonly<Record<string, string | undefined>> = process.env, fetcher: typeof fetch = fetch): AlarmForwarderDeps {
  const arn = env[WEBHOOK_SECRET_ENV];
  if (!arn) throw new Error(`${WEBHOOK_SECRET_ENV} is not set`);
  const format = env[WEBHOOK_FORMAT_ENV] ?? 'slack';
  if (!isWebhookFormat(format)) throw new Error(`${WEBHOOK_FORMAT_ENV} must be one of ${webhookFormats.join(', ')}; got ${JSON.stringify(format)}`);
  const sessionToken = env.AWS_SESSION_TOKEN ?? '';
  return { chat: chatWebhook({ format, fetch: fetcher, secret: () => extensionSecretString(arn, { sessionToken, fetch: fetcher }) }) };
}
