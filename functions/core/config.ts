// The one typed configuration module: every limit and knob. `loadConfig(env)` parses the
// environment once (the composition root calls it at first use); tests build a Config directly
// with `loadConfig({...})` and hand it to use cases, no new process needed. Defaults are the
// production values; a stage or the laptop overrides them by env.
import type { RateLimitName } from '#contract/route.ts';

export type { RateLimitName };

export interface RatePolicy {
  limit: number;
  windowSeconds: number;
}

type Env = Record<string, string | undefined>;

/**
 * A small typed reader of environment variables. Every Lambda parses its configuration at cold
 * start, so this is plain code rather than a schema library (it keeps ~10 KB of validator out of
 * every bundle). Every problem is collected, and the error names each variable that is wrong.
 */
class EnvReader {
  readonly problems: string[] = [];
  private readonly env: Env;

  constructor(env: Env) {
    this.env = env;
  }

  str(name: string, fallback: string): string {
    const v = this.env[name];
    if (v === undefined || v === '') return fallback;
    return v;
  }

  optional(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  url(name: string): string | undefined {
    const v = this.optional(name);
    if (v !== undefined && !URL.canParse(v)) this.problems.push(`${name} (not a URL)`);
    return v;
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.optional(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name} (an integer from ${min} to ${max})`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.optional(name);
    if (v === undefined) return fallback;
    if (!['true', 'false', '1', '0'].includes(v)) {
      this.problems.push(`${name} (true or false)`);
      return fallback;
    }
    return v === 'true' || v === '1';
  }

  /** A comma list of allowed words; "none" means empty. */
  list<T extends string>(name: string, fallback: string, allowed: readonly T[]): T[] {
    const items = this.str(name, fallback)
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x && x !== 'none');
    const bad = items.filter((x) => !allowed.includes(x as T));
    if (bad.length) this.problems.push(`${name} (comma list of ${allowed.join(', ')}, or none)`);
    return items.filter((x): x is T => allowed.includes(x as T));
  }
}

/**
 * Per-client limits: sliding windows (at most `limit` in any `windowSeconds`), counted in DynamoDB with atomic conditional updates.
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
  /** people searches per client IP, whichever accounts make them (many throwaway accounts, one address) */
  searchIp: { limit: 120, windowSeconds: 300 },
  /** WebSocket tickets per user */
  ticketUser: { limit: 30, windowSeconds: 300 },
  /** messages sent per user (socket and HTTP together) */
  sendUser: { limit: 300, windowSeconds: 60 },
  /** conversations opened per user */
  conversationUser: { limit: 60, windowSeconds: 3600 },
  /** public-key uploads per user */
  keysUser: { limit: 20, windowSeconds: 3600 },
  /** device link requests per client IP (a signed-out route) */
  linkIp: { limit: 10, windowSeconds: 600 },
  /** link claims per client IP: a new device polls until approved (every 3 s for 5 minutes is 100) */
  linkClaimIp: { limit: 120, windowSeconds: 300 },
  /** group creations and invitation requests per user (each names at most GROUP_INVITES_PER_REQUEST people) */
  inviteUser: { limit: 30, windowSeconds: 3600 },
  /** attachment uploads started per user (the bytes have their own daily quota, ATTACHMENT_DAILY_QUOTA_BYTES) */
  uploadUser: { limit: 120, windowSeconds: 3600 },
} satisfies Record<RateLimitName, RatePolicy>;

/** Overrides of the rate-limit table from JSON, e.g. {"loginIp":{"limit":5,"windowSeconds":300}}. */
function rateLimits(json: string | undefined, problems: string[]): Record<RateLimitName, RatePolicy> {
  const limits: Record<RateLimitName, RatePolicy> = { ...defaultRateLimits };
  if (!json) return limits;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    problems.push('RATE_LIMITS (not JSON)');
    return limits;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push('RATE_LIMITS (a JSON object)');
    return limits;
  }
  const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  for (const [name, policy] of Object.entries(parsed)) {
    const p = policy as Partial<RatePolicy> | null;
    const known = Object.hasOwn(defaultRateLimits, name);
    const valid =
      typeof p === 'object' &&
      p !== null &&
      Object.keys(p).every((k) => k === 'limit' || k === 'windowSeconds') &&
      positiveInt(p.limit) &&
      positiveInt(p.windowSeconds);
    if (!known || !valid) problems.push(`RATE_LIMITS.${name}`);
    else limits[name as RateLimitName] = { limit: p.limit!, windowSeconds: p.windowSeconds! };
  }
  return limits;
}

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: Env) {
  const r = new EnvReader(env);
  const stage = r.str('NEXCHAT_STAGE', 'dev');
  const otpRequiredFor = r.list('OTP_REQUIRED_FOR', 'register', ['register', 'login'] as const);
  const config = {
    stage: stage,
    local: r.bool('NEXCHAT_LOCAL', false),
    inLambda: Boolean(r.optional('AWS_LAMBDA_FUNCTION_NAME')),
    region: r.str('AWS_REGION', 'us-east-1'),
    dynamodbEndpoint: r.url('DYNAMODB_ENDPOINT'),
    wsCallbackUrl: r.url('WS_CALLBACK_URL'),
    edgeOriginSecret: r.optional('EDGE_ORIGIN_SECRET'),
    otpQueueUrl: r.url('OTP_QUEUE_URL'),
    presenceQueueUrl: r.url('PRESENCE_QUEUE_URL'),
    limits: {
      maxBodyBytes: r.int('MAX_BODY_BYTES', 256 * 1024, 1),
      wsMaxFrameBytes: r.int('WS_MAX_FRAME_BYTES', 128 * 1024, 1),
      healthTimeoutMs: r.int('HEALTH_TIMEOUT_MS', 2000, 1),
    },
    secrets: { arn: r.optional('AUTH_SECRET_ARN'), devFile: r.optional('NEXCHAT_DEV_SECRETS_FILE') },
    outboxFile: r.optional('NEXCHAT_OUTBOX_FILE'),
    outboxEcho: r.bool('NEXCHAT_OUTBOX_ECHO', false),
    /** Physical table names by table id; a table this function has no grant on is absent. */
    tables: {
      users: r.optional('USERS_TABLE'),
      keys: r.optional('KEYS_TABLE'),
      sessions: r.optional('SESSIONS_TABLE'),
      ephemeral: r.optional('EPHEMERAL_TABLE'),
      connections: r.optional('CONNECTIONS_TABLE'),
      messages: r.optional('MESSAGES_TABLE'),
      moderation: r.optional('MODERATION_TABLE'),
      attachments: r.optional('ATTACHMENTS_TABLE'),
    },
    tokens: {
      issuer: r.optional('JWT_ISSUER') ?? `https://nexchat/${stage}`,
      accessAudience: 'nexchat-api',
      refreshAudience: 'nexchat-refresh',
      accessTtlSeconds: r.int('ACCESS_TOKEN_TTL_SECONDS', 15 * 60, 60, 3600),
      refreshTtlSeconds: r.int('REFRESH_TOKEN_TTL_SECONDS', 30 * 24 * 3600, 3600),
    },
    /** scrypt N=2^17, r=8, p=1 (OWASP), 32-byte salt, 64-byte key; maxmem sized for N. */
    password: { log2N: r.int('PASSWORD_SCRYPT_LOG2N', 17, 10, 20), r: 8, p: 1, saltBytes: 32, keyBytes: 64, minLength: 8, maxLength: 128 },
    otp: {
      requiredFor: { register: otpRequiredFor.includes('register'), login: otpRequiredFor.includes('login') },
      ttlSeconds: r.int('OTP_TTL_SECONDS', 300, 30, 3600),
      maxAttempts: r.int('OTP_MAX_ATTEMPTS', 5, 1, 20),
      resendSeconds: r.int('OTP_RESEND_SECONDS', 60, 0, 3600),
      sesFromAddress: r.str('SES_FROM_ADDRESS', 'no-reply@nexchat.invalid'),
    },
    rateLimits: rateLimits(r.optional('RATE_LIMITS'), r.problems),
    realtime: {
      ticketTtlSeconds: r.int('WS_TICKET_TTL_SECONDS', 30, 5, 300),
      /** Presence (online/offline) goes to at most this many partners per event, the latest conversations first. */
      presenceFanoutMax: r.int('PRESENCE_FANOUT_MAX', 500, 1, 10_000),
      /**
       * A user's last socket closing announces "offline" only after this many seconds without a socket
       * (the presence queue's delivery delay; SQS allows up to 900), so a reconnect within it is silent.
       */
      presenceOfflineGraceSeconds: r.int('PRESENCE_OFFLINE_GRACE_SECONDS', 10, 0, 900),
    },
    moderation: {
      autoRestrictReporters: r.int('AUTO_RESTRICT_REPORTERS', 3, 1, 1000),
      autoRestrictWindowHours: r.int('AUTO_RESTRICT_WINDOW_HOURS', 24, 1, 24 * 30),
      reporterMinAgeHours: r.int('REPORTER_MIN_AGE_HOURS', 72, 0, 24 * 365),
    },
    groups: {
      /** Members of one group, invitations not counted. */
      maxMembers: r.int('GROUP_MAX_MEMBERS', 256, 2, 1000),
      /** Groups one user may be a member of. */
      maxPerUser: r.int('GROUPS_PER_USER_MAX', 500, 1, 10_000),
      /** People one request may invite (POST /api/groups, POST .../members); requests count against inviteUser. */
      invitesPerRequest: 20,
    },
    messages: { retentionSeconds: r.int('MESSAGE_RETENTION_DAYS', 365, 1, 3650) * 24 * 3600, historyPageMax: 100 },
  };
  // every reader above has run: report all that is wrong at once
  if (r.problems.length) throw new Error(`invalid configuration in environment: ${r.problems.join(', ')}`);
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

/**
 * Business metrics (CloudWatch EMF), parsed apart from loadConfig so that only the routes that count
 * carry it. Powertools' variable names, so its conventions (and a later switch) hold: namespace,
 * service, POWERTOOLS_METRICS_DISABLED. Written only inside Lambda; the laptop runtime collects them
 * in memory instead (local/metrics.ts), and anything else (tests, scripts) writes none.
 */
export function loadMetricsConfig(env: Env) {
  const r = new EnvReader(env);
  const disabled = r.bool('POWERTOOLS_METRICS_DISABLED', false);
  if (r.problems.length) throw new Error(`invalid configuration in environment: ${r.problems.join(', ')}`);
  return {
    enabled: Boolean(r.optional('AWS_LAMBDA_FUNCTION_NAME')) && !disabled,
    namespace: r.str('POWERTOOLS_METRICS_NAMESPACE', 'NexChat'),
    dimensions: { service: r.str('POWERTOOLS_SERVICE_NAME', 'nexchat'), stage: r.str('NEXCHAT_STAGE', 'dev') },
  };
}

/**
 * Devices and linking (core/devices.ts), parsed apart from loadConfig so that only the device routes
 * carry it (as loadMetricsConfig).
 */
export function loadDeviceConfig(env: Env) {
  const r = new EnvReader(env);
  const settings = {
    /** Devices with a live session an account may have; linking one more is refused (sign-ins are not). */
    maxPerUser: r.int('DEVICES_MAX', 10, 1, 100),
    /** Life of a device link request: approve and claim within it. */
    linkTtlSeconds: r.int('DEVICE_LINK_TTL_SECONDS', 300, 60, 900),
  };
  if (r.problems.length) throw new Error(`invalid configuration in environment: ${r.problems.join(', ')}`);
  return settings;
}

export type DeviceConfig = ReturnType<typeof loadDeviceConfig>;

/**
 * Presence beyond direct partners, parsed apart from loadConfig so that only the functions that
 * announce presence ($connect, the offline worker) carry it (as loadDeviceConfig).
 */
export function loadPresenceConfig(env: Env) {
  const r = new EnvReader(env);
  /** Co-members of the user's this many most recently active groups hear its presence too (0: none). */
  const groupsMax = r.int('PRESENCE_GROUPS_MAX', 20, 0, 500);
  if (r.problems.length) throw new Error(`invalid configuration in environment: ${r.problems.join(', ')}`);
  return { groupsMax };
}

/**
 * Attachments (core/attachments.ts), parsed apart from loadConfig so that only the attachment routes
 * and the sweeper carry it (as loadDeviceConfig).
 */
export function loadAttachmentConfig(env: Env) {
  const r = new EnvReader(env);
  const settings = {
    /** The bucket of encrypted blobs (the stack sets it; a local S3 on the laptop). */
    bucket: r.str('ATTACHMENTS_BUCKET', 'nexchat-attachments'),
    /** A local S3 (laptop and tests); refused inside Lambda. */
    s3Endpoint: r.url('S3_ENDPOINT'),
    /** Largest file (ciphertext bytes) one upload may declare. */
    maxFileBytes: r.int('ATTACHMENT_MAX_BYTES', 100 * 1024 * 1024, 1, 5 * 1024 ** 3),
    /** Bytes a user may start uploading per UTC day, all files together. */
    dailyQuotaBytes: r.int('ATTACHMENT_DAILY_QUOTA_BYTES', 2 * 1024 ** 3, 1, 1024 ** 4),
    /** Life of a presigned upload or download URL (S3 caps presigned URLs far later; we keep them short). */
    urlTtlSeconds: r.int('ATTACHMENT_URL_TTL_SECONDS', 300, 10, 300),
  };
  if (r.problems.length) throw new Error(`invalid configuration in environment: ${r.problems.join(', ')}`);
  if (settings.s3Endpoint && env.AWS_LAMBDA_FUNCTION_NAME) throw new Error('S3_ENDPOINT is set inside Lambda: refusing a local endpoint');
  return settings;
}

export type AttachmentConfig = ReturnType<typeof loadAttachmentConfig>;
