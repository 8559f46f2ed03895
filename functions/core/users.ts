// Profiles and people search: what a signed-in user may change about themselves, and how others
// find them (exact email or phone, or a display-name prefix; public fields only).
import type { PublicUser } from '#contract/auth/schemas.ts';
import { email, phone } from '#contract/auth/schemas.ts';
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

export async function renameSelf(deps: { users: Pick<UsersPort, 'update'> }, userId: string, displayName: string): Promise<PublicUser> {
  return publicUser(await deps.users.update(userId, { displayName }));
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
