// Per-client rate limiting over a sliding window (LimitsPort: at most `limit` hits in any interval of
// `windowSeconds`, counted atomically). A refusal is a RateLimited error carrying Retry-After and the
// IETF RateLimit-Policy / RateLimit headers (draft-ietf-httpapi-ratelimit-headers): q and w are the
// policy, t the seconds until a hit would be accepted again (the same number as Retry-After).
import type { Config, RateLimitName } from './config.ts';
import { RateLimited } from './errors.ts';
import type { Clock, LimitsPort } from './ports.ts';

const describe: Record<RateLimitName, string> = {
  loginIp: 'login attempts from this address',
  loginAccount: 'login attempts for this account',
  registerIp: 'registrations from this address',
  otpRequestDestination: 'codes sent to this destination',
  otpRequestIp: 'code requests from this address',
  otpVerifyIp: 'code submissions from this address',
  refreshIp: 'token refreshes from this address',
  passwordAccount: 'password changes for this account',
  reportReporter: 'reports filed by this account',
  searchUser: 'searches by this account',
  searchIp: 'searches from this address',
  ticketUser: 'WebSocket tickets for this account',
  sendUser: 'messages sent by this account',
  conversationUser: 'conversations opened by this account',
  keysUser: 'key uploads by this account',
  linkIp: 'link requests from this address',
  linkClaimIp: 'link claims from this address',
  inviteUser: 'group invitations sent by this account',
  uploadUser: 'uploads started by this account',
};

export interface LimitDeps {
  limits: LimitsPort;
  config: Pick<Config, 'rateLimits'>;
  clock: Clock;
}

/** Counts one hit of `name` for `key`; past the policy's limit, a 429 that says when to retry. */
export async function enforce(deps: LimitDeps, name: RateLimitName, key: string): Promise<void> {
  const policy = deps.config.rateLimits[name];
  const result = await deps.limits.hit(name, key, policy);
  if (result.allowed) return;
  // rounded up: a retry this many whole seconds later is accepted (unless other hits come first), one second earlier is not
  const retryAfter = Math.max(1, Math.ceil((result.retryAt - deps.clock.now()) / 1000));
  throw new RateLimited(describe[name], retryAfter, {
    'RateLimit-Policy': `"${name}";q=${policy.limit};w=${policy.windowSeconds}`,
    RateLimit: `"${name}";r=0;t=${retryAfter}`,
  });
}
