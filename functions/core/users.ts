// Profiles and people search: what a signed-in user may change about themselves, which names only
// staff may take, and how others find them (exact email or phone, or a display-name prefix; public
// fields only).
import type { Role } from '#contract/common.ts';
import type { PublicUser } from '#contract/auth/schemas.ts';
import { email, phone } from '#contract/auth/schemas.ts';
import { ValidationFailed } from './errors.ts';
import type { UserRecord, UsersPort } from './ports.ts';

export function publicUser(u: UserRecord): PublicUser {
  return {
    userId: u.userId,
    displayName: u.displayName,
    ...(u.email ? { email: u.email } : {}),
    ...(u.phone ? { phone: u.phone } : {}),
    role: u.role,
    hasPassword: Boolean(u.passwordHash),
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

export async function renameSelf(deps: { users: Pick<UsersPort, 'update'> }, caller: { userId: string; role: Role }, displayName: string): Promise<PublicUser> {
  assertNameAllowed(displayName, caller.role);
  return publicUser(await deps.users.update(caller.userId, { displayName }));
}

const SEARCH_PAGE = 20;

export async function searchPeople(
  deps: { users: Pick<UsersPort, 'findIdByIdentifier' | 'get' | 'searchByName'> },
  q: string,
): Promise<{ userId: string; displayName: string }[]> {
  const asEmail = email.safeParse(q);
  const asPhone = phone.safeParse(q);
  if (asEmail.success || asPhone.success) {
    const userId = asEmail.success ? await deps.users.findIdByIdentifier('email', asEmail.data) : await deps.users.findIdByIdentifier('phone', q);
    const user = userId ? await deps.users.get(userId) : undefined;
    return user ? [{ userId: user.userId, displayName: user.displayName }] : [];
  }
  return deps.users.searchByName(q, SEARCH_PAGE);
}
