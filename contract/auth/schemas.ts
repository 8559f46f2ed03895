// Identity shapes shared by the auth and users routes: identifiers, one-time codes, passwords, the
// public view of a user and the token answer.
import * as z from 'zod/mini';
import { roles } from '../common.ts';

/**
 * register: new account; login: passwordless sign-in; password: set a first password; reset:
 * forgotten password; reauth: a passwordless account confirms a sensitive action (deletion, turning
 * discovery on).
 */
export const otpPurposes = ['register', 'login', 'password', 'reset', 'reauth'] as const;
export type OtpPurpose = (typeof otpPurposes)[number];
export const otpChannels = ['email', 'sms'] as const;
export type OtpChannel = (typeof otpChannels)[number];

export const email = z.pipe(
  z.email({ message: 'Invalid email address' }).check(z.maxLength(254)),
  z.transform((v: string) => v.trim().toLowerCase()),
);
/** E.164: a plus, then up to 15 digits, no leading zero. */
export const phone = z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, { message: 'Phone numbers are E.164, e.g. +14155550123' }));
export const code = z.string().check(z.regex(/^\d{6}$/, { message: 'A code is 6 digits' }));

/**
 * One visible character of a display name: anything but control (Cc), format (Cf: zero-width
 * characters, bidi embeddings, overrides and isolates), surrogate, private-use and unassigned (Cn)
 * code points, line and paragraph separators, and default-ignorable ones (Hangul fillers, ...).
 * Emoji keep working: a variation selector after an emoji, a zero-width joiner between two
 * pictographs (👩🏽‍💻), and the tag characters of a subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
 */
const visibleNameCharacters =
  /^(?:[^\p{C}\p{Zl}\p{Zp}\p{DI}]|(?<=\p{Emoji})[\uFE0E\uFE0F]|(?<=[\p{ExtPict}\p{EMod}]\uFE0F?)\u200D(?=\p{ExtPict})|(?<=\u{1F3F4}[\u{E0020}-\u{E007E}]*)[\u{E0020}-\u{E007F}])*$/u;

/**
 * NFKC-normalised (full-width and other compatibility forms become their plain letters, and that is
 * what is stored), trimmed, 2-64 characters, visible characters only. Names that pass for staff
 * (admin, support, ...) are refused by the use case, which knows the caller's role (core/users.ts).
 * Pure: only the two routes that take a name (register, update-me) bundle it.
 */
export const displayName = /* @__PURE__ */ (() =>
  z
    .string()
    .check(
      z.normalize('NFKC'),
      z.trim(),
      z.minLength(2, { message: 'At least 2 characters' }),
      z.maxLength(64, { message: 'At most 64 characters' }),
      z.regex(visibleNameCharacters, { message: 'Control, invisible, formatting (bidi) and unassigned characters are not allowed' }),
    ))();
/**
 * A device's name as its owner sees it in GET /api/devices ("Ada's laptop"): trimmed, 1-64 visible
 * characters (no control, format or separator code points). Pure: only the routes that take one bundle it.
 */
export const deviceName = /* @__PURE__ */ (() =>
  z
    .string()
    .check(
      z.trim(),
      z.minLength(1, { message: 'At least 1 character' }),
      z.maxLength(64, { message: 'At most 64 characters' }),
      z.regex(/^[^\p{C}\p{Zl}\p{Zp}]+$/u, { message: 'Control, invisible and formatting characters are not allowed' }),
    ))();
/** Compared exactly as given: no trimming, no normalisation; only the length is checked here. */
export const newPassword = z.string().check(z.minLength(8, { message: 'At least 8 characters' }), z.maxLength(128, { message: 'At most 128 characters' }));
export const anyPassword = z.string().check(z.minLength(1), z.maxLength(128));

/** Bodies that name an account by email or phone take exactly one of them. */
export const oneIdentifier = z.superRefine((v: { email?: string | undefined; phone?: string | undefined }, ctx) => {
  if ((v.email === undefined) === (v.phone === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['email'], message: 'Give exactly one of email or phone', input: v });
  }
});

/** The signed-in user's own view (GET /api/users/me and every token answer); others see userSummary only. */
export const publicUser = z.object({
  userId: z.string(),
  displayName: z.string(),
  email: z.optional(z.string()),
  phone: z.optional(z.string()),
  role: z.enum(roles),
  hasPassword: z.boolean(),
  /** Whether others can find this user by exact email or phone (opt-in; PATCH /api/users/me). */
  discoverable: z.boolean(),
  createdAt: z.string(),
});
export type PublicUser = z.infer<typeof publicUser>;

export const tokens = z.object({ user: publicUser, accessToken: z.string(), refreshToken: z.string(), expiresIn: z.int().check(z.positive()) });
export type Tokens = z.infer<typeof tokens>;

export const otpAccepted = z.object({
  expiresAt: z.iso.datetime(),
  expiresIn: z.int(),
  resendAfter: z.iso.datetime(),
  resendIn: z.int(),
});
export type OtpAccepted = z.infer<typeof otpAccepted>;

export const me = z.object({ user: publicUser });
