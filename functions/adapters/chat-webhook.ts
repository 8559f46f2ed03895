// Posts a notice to a chat webhook (Slack, Teams Workflows, Chime, or anything that takes Slack's
// `{ text }`). The URL is a secret (it alone lets anyone post to the channel): it is read when
// needed, never logged, and only its host appears in errors.
import type { WebhookFormat } from '#contract/internal/alarm-webhook.ts';
import type { ChatNoticePort } from '#core/alarm-notice.ts';

export interface ChatWebhookOptions {
  /** The webhook URL, or a JSON object `{ "url": ... }` holding it (how the secret is stored). */
  readonly secret: () => Promise<string>;
  readonly format: WebhookFormat;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

export function chatWebhook(options: ChatWebhookOptions): ChatNoticePort {
  const post = options.fetch ?? fetch;
  return {
    async post(text) {
      const url = webhookUrl(await options.secret());
      const res = await post(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(webhookBody(options.format, text)),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      if (!res.ok) throw new Error(`the chat webhook at ${url.host} answered ${res.status}`);
    },
  };
}

/** The request body each chat service expects for a plain text message. */
export function webhookBody(format: WebhookFormat, text: string): unknown {
  switch (format) {
    case 'slack':
      return { text };
    case 'chime':
      return { Content: text };
    case 'teams':
      return {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            content: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text, wrap: true }] },
          },
        ],
      };
  }
}

/** The secret holds the URL itself or `{ "url": "https://..." }`; only https is accepted. */
export function webhookUrl(secret: string): URL {
  let value = secret.trim();
  if (value.startsWith('{')) {
    const parsed = JSON.parse(value) as { url?: unknown };
    value = typeof parsed.url === 'string' ? parsed.url : '';
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('the webhook secret holds no URL (expected https://... or {"url": "https://..."})');
  }
  if (url.protocol !== 'https:') throw new Error(`the webhook URL must be https, not ${url.protocol}`);
  return url;
}
