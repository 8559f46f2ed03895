// The one typed configuration module: every limit and knob. `loadConfig(env)` parses the
// environment once (the composition root calls it at first use); tests build a Config directly
// with `loadConfig({...})` and hand it to use cases, no new process needed. Defaults are the
// production values; a stage or the laptop overrides them by env.
import * as z from 'zod/mini';
import type { RateLimitName } from '#contract/route.ts';

export type { RateLimitName };

const bool = z.pipe(
  z.enum(['true', 'false', '1', '0']),
  z.transform((v: 'true' | 'false' | '1' | '0') => v === 'true' || v === '1'),
);
const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) => z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max));
const optionalString = z.optional(z.string());

const envSchema = z.object({
  NEXCHAT_STAGE: z._default(z.string().check(z.minLength(1)), 'dev'),
  /** Set by the laptop runtime only. Lambda refuses to start with it (see assertNotLocalInLambda). */
  NEXCHAT_LOCAL: z._default(bool, false),
  AWS_LAMBDA_FUNCTION_NAME: optionalString,
  AWS_REGION: z._default(z.string(), 'us-east-1'),
  DYNAMODB_ENDPOINT: z.optional(z.url()),
  /** Base URL of the WebSocket @connections management API (the stage's callback URL in AWS). */
  WS_CALLBACK_URL: z.optional(z.url()),
  MAX_BODY_BYTES: z._default(int(1), 256 * 1024),
  WS_MAX_FRAME_BYTES: z._default(int(1), 128 * 1024),
  HEALTH_TIMEOUT_MS: z._default(int(1), 2000),

  // ---- identity ----
  /** Secrets Manager secret holding { kid, master } (AWS). */
  AUTH_SECRET_ARN: optionalString,
  /** Dev secrets file written by the laptop runtime; refused inside Lambda. */
  NEXCHAT_DEV_SECRETS_FILE: optionalString,
  /** Dev outbox for OTP messages (laptop); refused inside Lambda. */
  NEXCHAT_OUTBOX_FILE: optionalString,
  JWT_ISSUER: optionalString,
  ACCESS_TOKEN_TTL_SECONDS: z._default(int(60, 3600), 15 * 60),
  REFRESH_TOKEN_TTL_SECONDS: z._default(int(3600), 30 * 24 * 3600),
  /** scrypt cost; tests lower it, deployments keep 2^17 (see tests/identity-unit.test.ts). */
  PASSWORD_SCRYPT_LOG2N: z._default(int(10, 20), 17),
  /** Which flows need an OTP code: comma list of register, login; or "none". */
  OTP_REQUIRED_FOR: z.pipe(
    z.pipe(
      z._default(z.string(), 'register'),
      z.transform((v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s && s !== 'none'),
      ),
    ),
    z.array(z.enum(['register', 'login'])),
  ),
  OTP_TTL_SECONDS: z._default(int(30, 3600), 300),
  OTP_MAX_ATTEMPTS: z._default(int(1, 20), 5),
  OTP_RESEND_SECONDS: z._default(int(0, 3600), 60),
  SES_FROM_ADDRESS: z._default(z.string(), 'no-reply@nexchat.invalid'),
  WS_TICKET_TTL_SECONDS: z._default(int(5, 300), 30),
  MESSAGE_RETENTION_DAYS: z._default(int(1, 3650), 365),
  /** Distinct reporters within AUTO_RESTRICT_WINDOW_HOURS that restrict a user from new conversations. */
  AUTO_RESTRICT_REPORTERS: z._default(int(1, 1000), 3),
  AUTO_RESTRICT_WINDOW_HOURS: z._default(int(1, 24 * 30), 24),
  /** JSON object overriding entries of the rate-limit table, e.g. {"loginIp":{"limit":5,"windowSeconds":300}}. */
  RATE_LIMITS: optionalString,
  NEXCHAT_OUTBOX_ECHO: z._default(bool, false),

  // ---- physical table names (set by the stack for granted tables only, or by the laptop runtime) ----
  USERS_TABLE: optionalString,
  KEYS_TABLE: optionalString,
  SESSIONS_TABLE: optionalString,
  EPHEMERAL_TABLE: optionalString,
  CONNECTIONS_TABLE: optionalString,
  MESSAGES_TABLE: optionalString,
  MODERATION_TABLE: optionalString,
});

const ratePolicy = z.strictObject({ limit: z.int().check(z.positive()), windowSeconds: z.int().check(z.positive()) });
export type RatePolicy = z.infer<typeof ratePolicy>;

/**
 * Per-client limits, counted in DynamoDB with atomic conditional updates (fixed windows).
 * Anchors: Synapse rc_login (5 per ~5 min per address and per account), Signal registration
 * (6 per 30 s), ASVS 5 (at most 100 failed logins per hour per account: 5 per 5 min caps it at 60).
 */
export const defaultRateLimits = {
  /** login attempts (any outcome) per client IP */
  loginIp: { limit: 5, windowSeconds: 300 },
  /** login attempts (any outcome) per account identifier, known or not */
  loginAccount: { limit: 5, windowSeconds: 300 },
  /** registration attempts per client IP */
  registerIp: { limit: 6, windowSeconds: 30 },
  /** OTP codes requested per destination (email address or phone number) */
  otpRequestDestination: { limit: 3, windowSeconds: 900 },
  /** OTP codes requested per client IP */
  otpRequestIp: { limit: 10, windowSeconds: 3600 },
  /** OTP code submissions per client IP (each challenge also dies after OTP_MAX_ATTEMPTS wrong codes) */
  otpVerifyIp: { limit: 30, windowSeconds: 600 },
  /** token refreshes per client IP */
  refreshIp: { limit: 60, windowSeconds: 300 },
  /** password changes per account */
  passwordAccount: { limit: 5, windowSeconds: 3600 },
  /** reports filed per reporter */
  reportReporter: { limit: 10, windowSeconds: 3600 },
  /** people searches per user (exact email/phone lookups make this an enumeration oracle) */
  searchUser: { limit: 30, windowSeconds: 300 },
  /** WebSocket tickets per user */
  ticketUser: { limit: 30, windowSeconds: 300 },
  /** messages sent per user (socket and HTTP together) */
  sendUser: { limit: 300, windowSeconds: 60 },
  /** conversations opened per user */
  conversationUser: { limit: 60, windowSeconds: 3600 },
  /** public-key uploads per user */
  keysUser: { limit: 20, windowSeconds: 3600 },
} satisfies Record<RateLimitName, RatePolicy>;

function rateLimits(json: string | undefined): Record<RateLimitName, RatePolicy> {
  if (!json) return { ...defaultRateLimits };
  const names = Object.keys(defaultRateLimits) as [RateLimitName, ...RateLimitName[]];
  const overrides = z.partialRecord(z.enum(names), ratePolicy).parse(JSON.parse(json)) as Partial<Record<RateLimitName, RatePolicy>>;
  return { ...defaultRateLimits, ...overrides };
}

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: Record<string, string | undefined>) {
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
    secrets: { arn: e.AUTH_SECRET_ARN, devFile: e.NEXCHAT_DEV_SECRETS_FILE },
    outboxFile: e.NEXCHAT_OUTBOX_FILE,
    outboxEcho: e.NEXCHAT_OUTBOX_ECHO,
    /** Physical table names by table id; a table this function has no grant on is absent. */
    tables: {
      users: e.USERS_TABLE,
      keys: e.KEYS_TABLE,
      sessions: e.SESSIONS_TABLE,
      ephemeral: e.EPHEMERAL_TABLE,
      connections: e.CONNECTIONS_TABLE,
      messages: e.MESSAGES_TABLE,
      moderation: e.MODERATION_TABLE,
    },
    tokens: {
      issuer: e.JWT_ISSUER ?? `https://nexchat/${e.NEXCHAT_STAGE}`,
      accessAudience: 'nexchat-api',
      refreshAudience: 'nexchat-refresh',
      accessTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
    },
    /** scrypt N=2^17, r=8, p=1 (OWASP), 32-byte salt, 64-byte key; maxmem sized for N. */
    password: { log2N: e.PASSWORD_SCRYPT_LOG2N, r: 8, p: 1, saltBytes: 32, keyBytes: 64, minLength: 8, maxLength: 128 },
    otp: {
      requiredFor: { register: e.OTP_REQUIRED_FOR.includes('register'), login: e.OTP_REQUIRED_FOR.includes('login') },
      ttlSeconds: e.OTP_TTL_SECONDS,
      maxAttempts: e.OTP_MAX_ATTEMPTS,
      resendSeconds: e.OTP_RESEND_SECONDS,
      sesFromAddress: e.SES_FROM_ADDRESS,
    },
    rateLimits: rateLimits(e.RATE_LIMITS),
    realtime: { ticketTtlSeconds: e.WS_TICKET_TTL_SECONDS },
    moderation: { autoRestrictReporters: e.AUTO_RESTRICT_REPORTERS, autoRestrictWindowHours: e.AUTO_RESTRICT_WINDOW_HOURS },
    messages: { retentionSeconds: e.MESSAGE_RETENTION_DAYS * 24 * 3600, historyPageMax: 100 },
  };
  assertNotLocalInLambda(config);
  return config;
}

/** Local-only settings (dev secrets, outbox, a custom DynamoDB endpoint) must never run in AWS. */
export function assertNotLocalInLambda(c: {
  inLambda: boolean;
  local: boolean;
  dynamodbEndpoint?: string | undefined;
  secrets?: { devFile?: string | undefined };
  outboxFile?: string | undefined;
}): void {
  if (!c.inLambda) return;
  if (c.secrets?.devFile) throw new Error('NEXCHAT_DEV_SECRETS_FILE is set inside Lambda: refusing dev secrets');
  if (c.outboxFile) throw new Error('NEXCHAT_OUTBOX_FILE is set inside Lambda: refusing the dev outbox');
  if (c.local) throw new Error('NEXCHAT_LOCAL is set inside Lambda: refusing local-only settings');
  if (c.dynamodbEndpoint) throw new Error('DYNAMODB_ENDPOINT is set inside Lambda: refusing a local endpoint');
}
