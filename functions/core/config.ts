// The one typed configuration module: every limit and knob, parsed from the environment once at
// module load. Defaults are the production values; a stage or the laptop overrides them by env.
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  NEXCHAT_STAGE: z.string().min(1).default('dev'),
  /** Set by the laptop runtime only. Lambda refuses to start with it (see assertNotLocalInLambda). */
  NEXCHAT_LOCAL: bool.default(false),
  AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  DYNAMODB_ENDPOINT: z.url().optional(),
  /** Base URL of the WebSocket @connections management API (the stage's callback URL in AWS). */
  WS_CALLBACK_URL: z.url().optional(),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  WS_MAX_FRAME_BYTES: z.coerce.number().int().positive().default(128 * 1024),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
});

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`invalid configuration in environment: ${fields}`);
  }
  const e = parsed.data;
  const config = {
    stage: e.NEXCHAT_STAGE,
    local: e.NEXCHAT_LOCAL,
    inLambda: Boolean(e.AWS_LAMBDA_FUNCTION_NAME),
    region: e.AWS_REGION,
    dynamodbEndpoint: e.DYNAMODB_ENDPOINT,
    wsCallbackUrl: e.WS_CALLBACK_URL,
    limits: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      wsMaxFrameBytes: e.WS_MAX_FRAME_BYTES,
      healthTimeoutMs: e.HEALTH_TIMEOUT_MS,
    },
  };
  assertNotLocalInLambda(config);
  return config;
}

/** Local-only settings (dev secrets, outbox, a custom DynamoDB endpoint) must never run in AWS. */
export function assertNotLocalInLambda(c: { inLambda: boolean; local: boolean; dynamodbEndpoint?: string | undefined }): void {
  if (!c.inLambda) return;
  if (c.local) throw new Error('NEXCHAT_LOCAL is set inside Lambda: refusing local-only settings');
  if (c.dynamodbEndpoint) throw new Error('DYNAMODB_ENDPOINT is set inside Lambda: refusing a local endpoint');
}

export const config = loadConfig();
