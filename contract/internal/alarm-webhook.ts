// The chat webhook the alarm forwarder posts to: which body shapes it speaks. Internal, shared by the
// synth-time check of context "alarmWebhookFormat" (lib/constructs/monitoring.ts) and the forwarder,
// which reads it from its environment (functions/wiring/alarm-forwarder.ts).

/** slack: `{ text }` (Slack, Mattermost, Google Chat); teams: an Adaptive Card (Teams Workflows); chime: `{ Content }`. */
export const webhookFormats = ['slack', 'teams', 'chime'] as const;
export type WebhookFormat = (typeof webhookFormats)[number];

export function isWebhookFormat(value: unknown): value is WebhookFormat {
  return typeof value === 'string' && (webhookFormats as readonly string[]).includes(value);
}
