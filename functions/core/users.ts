// Profiles and people search: what a signed-in user may change about themselves, which names only
// staff may take, and how others find them (exact email or phone of users who opted in, or a
// display-name prefix; public fields only).
import { createHash } from 'node:crypto';
import type { Role } from '#contract/common.ts';
import type { PublicUser } from '#contract/auth/schemas.ts';
import { email, phone } from '#contract/auth/schemas.ts';
import { ValidationFailed } from './errors.ts';
import type { UserChanges, UserRecord, UsersPort } from './ports.ts';
import { enforce, type LimitDeps } from './rate-limit.ts';

export function publicUser(u: UserRecord): PublicUser {
  return {
    userId: u.userId,
    displayName: u.displayName,
    ...(u.email ? { email: u.email } : {}),
    ...(u.phone ? { phone: u.phone } : {}),
    role: u.role,
    hasPassword: Boolean(u.passwordHash),
    discoverable: u.discoverable === true,
    createdAt: u.createdAt,
  };
}

// ---- names only staff may take -----------------------------------------------------------------

/** Names that pass for the service or its staff; compared as skeletons (see nameSkeleton). */
export const RESERVED_NAMES = ['admin', 'moderator', 'support', 'nexchat', 'official', 'system'] as const;

/**
 * Characters that pass for the letters of the reserved names, after NFKC, accents dropped and lower
 * case: digits and symbols (0→o, 1→i, 3→e, 4→a, 5→s, 7→t, @→a, $→s), l and I folded with i, and
 * Cyrillic, Greek and small-capital look-alikes. Two upper-case Greek letters map apart from their
 * lower case (Η is an H, η an n).
 */
const LOOKALIKES = /* @__PURE__ */ (() =>
  new Map(
    '0o 1i li |i !i 3e 4a @a 5s $s 7t ıi ɪi ʟi ɑa аa вb еe кk мm нh оo рp сc тt уy хx ѕs іi јj һh ԁd ӏi αa βb εe ηn ιi κk μm νn οo ρp τt υu χx γy ϲc Ηh Υy ᴀa ᴅd ᴍm ɴn ᴏo ʀr ᴛt ᴇe ꜱs ᴜu ᴘp ʏy ᴄc ʜh ꜰf'
      .split(' ')
      .map((pair) => [...pair] as [string, string]),
  ))();

/**
 * A name folded for comparison with the reserved ones: NFKC, accents dropped, case folded,
 * look-alikes replaced, everything but letters and digits removed (spaces, dots, underscores,
 * invisible characters), "rn" read as "m" and repeated letters as one. `wordStart[i]` says whether
 * character i began a word of the original (after a separator, or an upper-case letter after a
 * lower-case one: "TheAdmin").
 */
export function nameSkeleton(name: string): { text: string; wordStart: boolean[] } {
  const chars: string[] = [];
  const starts: boolean[] = [];
  let boundary = true;
  let previousLower = false;
  for (const original of name.normalize('NFKC')) {
    for (const c of original.normalize('NFKD').replace(/\p{M}/gu, '')) {
      const lower = c.toLowerCase();
      const folded = LOOKALIKES.get(c) ?? LOOKALIKES.get(lower) ?? lower;
      if (!/^[\p{L}\p{N}]$/u.test(folded)) {
        boundary = true;
        continue;
      }
      const upper = c !== lower;
      chars.push(folded);
      starts.push(boundary || (upper && previousLower));
      boundary = false;
      previousLower = !upper && c !== c.toUpperCase();
    }
  }
  let text = '';
  const wordStart: boolean[] = [];
  for (let i = 0; i < chars.length; i++) {
    let c = chars[i]!;
    const start = starts[i]!;
    if (c === 'r' && chars[i + 1] === 'n') {
      c = 'm';
      i++;
    }
    if (text.endsWith(c)) continue;
    text += c;
    wordStart.push(start, ...(c.length > 1 ? [false] : [])); // indexed like `text` (UTF-16 units)
  }
  return { text, wordStart };
}

/** Pure, like LOOKALIKES: bundles that only show users (publicUser) leave the name rules out. */
const reservedSkeletons = /* @__PURE__ */ (() => RESERVED_NAMES.map((n) => nameSkeleton(n).text))();

/**
 * Does the name pass for staff? When a reserved name starts one of its words ("Admin", "adm1n",
 * "Ａｄｍｉｎ", "A.d.m.i.n", "Support Team", "Admin2", "TheModerator"), or, for the brand, anywhere
 * ("MyNexChat"). A reserved name inside a word is fine ("Badminton", "Chad Minter").
 */
export function isReservedName(name: string): boolean {
  const { text, wordStart } = nameSkeleton(name);
  return reservedSkeletons.some((r) => {
    for (let i = text.indexOf(r); i >= 0; i = text.indexOf(r, i + 1)) if (r === 'nexchat' || wordStart[i]) return true;
    return false;
  });
}

/** Staff may use staff-like names; everyone else gets a 400 naming the field. */
export function assertNameAllowed(displayName: string, role: Role): void {
  if (role !== 'user' || !isReservedName(displayName)) return;
  throw new ValidationFailed('This display name is reserved', [
    {
      path: 'body.displayName',
      message: `Names that pass for ${RESERVED_NAMES.join(', ')} are reserved for staff`,
      code: 'display_name_reserved',
    },
  ]);
}

/** The caller's own profile: display name (checked against the reserved names) and discoverability. */
export async function updateSelf(
  deps: { users: Pick<UsersPort, 'update'> },
  caller: { userId: string; role: Role },
  changes: { displayName?: string | undefined; discoverable?: boolean | undefined },
): Promise<PublicUser> {
  if (changes.displayName !== undefined) assertNameAllowed(changes.displayName, caller.role);
  const update: UserChanges = {
    ...(changes.displayName !== undefined ? { displayName: changes.displayName } : {}),
    ...(changes.discoverable !== undefined ? { discoverable: changes.discoverable } : {}),
  };
  return publicUser(await deps.users.update(caller.userId, update));
}

export async function renameSelf(deps: { users: Pick<UsersPort, 'update'> }, caller: { userId: string; role: Role }, displayName: string): Promise<PublicUser> {
  return updateSelf(deps, caller, { displayName });
}

const SEARCH_PAGE = 20;

/** A user id no account has (ids are random v4 UUIDs): read in place of an unregistered address. */
export const NO_SUCH_USER = '00000000-0000-0000-0000-000000000000';

export interface SearchDeps extends LimitDeps {
  users: Pick<UsersPort, 'findIdByIdentifier' | 'get' | 'searchByName'>;
}

/**
 * People search, counted per source IP as well (the gate counts per account, so many accounts from
 * one address cannot add up their shares). An exact email or phone finds the user only if they opted
 * in (`discoverable`); otherwise the answer, and the reads behind it (claim, then profile), are the
 * same as for an address nobody registered, so search cannot tell which addresses have accounts.
 */
export async function searchPeople(deps: SearchDeps, q: string, sourceIp: string): Promise<{ userId: string; displayName: string }[]> {
  await enforce(deps, 'searchIp', createHash('sha256').update(sourceIp).digest('base64url').slice(0, 32));
  const asEmail = email.safeParse(q);
  const asPhone = phone.safeParse(q);
  if (asEmail.success || asPhone.success) {
    const userId = asEmail.success ? await deps.users.findIdByIdentifier('email', asEmail.data) : await deps.users.findIdByIdentifier('phone', q);
    const user = await deps.users.get(userId ?? NO_SUCH_USER);
    return user?.discoverable === true ? [{ userId: user.userId, displayName: user.displayName }] : [];
  }
  return deps.users.searchByName(q, SEARCH_PAGE);
}
