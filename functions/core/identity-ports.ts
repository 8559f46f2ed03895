// What identity logic needs from storage and delivery. Adapters implement these over DynamoDB,
// SES/SNS or the dev outbox; core code never creates an SDK client.
import type { OtpChannel, OtpPurpose } from './otp.ts';
import type { RatePolicy } from './config.ts';

export type Role = 'user' | 'moderator' | 'admin';
export type UserStatus = 'active' | 'suspended' | 'banned';

export interface UserRecord {
  userId: string;
  displayName: string;
  email?: string;
  phone?: string;
  passwordHash?: string;
  role: Role;
  status: UserStatus;
  suspendedUntil?: number;
  /** Epoch ms: tokens and session families older than this are dead (logout-all, bans, deletion). */
  tokensValidAfter: number;
  /** When the user's last WebSocket connection closed. */
  lastSeenAt?: string;
  /** Set by auto-restriction (many distinct reporters): no new conversations until a moderator reviews. */
  restrictedAt?: string;
  createdAt: string;
  updatedAt: string;
}

export interface UsersPort {
  create(user: UserRecord): Promise<void>;
  get(userId: string): Promise<UserRecord | undefined>;
  findIdByIdentifier(kind: 'email' | 'phone', value: string): Promise<string | undefined>;
  /** `unlessStatus`: refuse (409 already_<status>) when the account has that status at write time. */
  update(
    userId: string,
    changes: Partial<Pick<UserRecord, 'displayName' | 'passwordHash' | 'tokensValidAfter' | 'status' | 'suspendedUntil' | 'role' | 'lastSeenAt' | 'restrictedAt'>>,
    opts?: { unlessStatus?: UserStatus },
  ): Promise<UserRecord>;
  delete(user: UserRecord): Promise<void>;
}

export interface FamilyRecord {
  familyId: string;
  userId: string;
  currentDigest: string;
  generation: number;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch seconds: the absolute end of the family (and DynamoDB TTL). */
  expiresAt: number;
  revokedAt?: number;
  revokeReason?: string;
}

export interface SessionsPort {
  create(family: FamilyRecord): Promise<void>;
  get(familyId: string): Promise<FamilyRecord | undefined>;
  /** Atomically swaps the current token digest; false when `presented` is not current (reuse or race). */
  rotate(familyId: string, presented: string, next: string, now: number): Promise<boolean>;
  revoke(familyId: string, reason: string, now: number): Promise<void>;
  revokeAllForUser(userId: string, reason: string, now: number, exceptFamilyId?: string): Promise<number>;
}

export interface ChallengeRecord {
  digest: string;
  attempts: number;
  expiresAt: number;
  resendAt: number;
  usedAt?: number;
}

export interface ChallengeKey {
  purpose: OtpPurpose;
  channel: OtpChannel;
  destinationKey: string;
}

export interface ChallengesPort {
  /** Replaces any previous challenge unless its resend cooldown is still running (returns its end, epoch ms). */
  put(key: ChallengeKey, digest: string, expiresAt: number, resendAt: number, now: number): Promise<{ ok: true } | { ok: false; resendAt: number }>;
  /** Counts one attempt; undefined when the challenge is missing, used, expired or out of attempts. */
  attempt(key: ChallengeKey, maxAttempts: number, now: number): Promise<ChallengeRecord | undefined>;
  /** Single use: true for exactly one caller. */
  markUsed(key: ChallengeKey, now: number): Promise<boolean>;
}

export interface CounterPort {
  /** Counts one hit in the current window unless the limit is reached; exact under concurrency. */
  hit(name: string, key: string, policy: RatePolicy, now: number): Promise<{ allowed: boolean; count: number; resetAt: number }>;
}

export interface OtpMessage {
  channel: OtpChannel;
  destination: string;
  purpose: OtpPurpose;
  code: string;
  expiresAt: number;
}

export interface NotifierPort {
  sendOtp(message: OtpMessage): Promise<void>;
}
