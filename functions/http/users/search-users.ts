// GET /api/users/search?q=: exact email or phone (E.164), else a display-name prefix. Public fields only.
import { emailSchema, phoneSchema } from '#core/otp.ts';
import { searchByName, users } from '#adapters/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { searchUsers as contract } from '#contract/users/search-users.ts';

const PAGE = 20;

export const handler = httpHandler(contract).handle(async ({ query }) => {
  const email = emailSchema.safeParse(query.q);
  const phone = phoneSchema.safeParse(query.q);
  if (email.success || phone.success) {
    const userId = email.success ? await users.findIdByIdentifier('email', email.data) : await users.findIdByIdentifier('phone', query.q);
    const user = userId ? await users.get(userId) : undefined;
    return { body: { users: user ? [{ userId: user.userId, displayName: user.displayName }] : [] } };
  }
  return { body: { users: await searchByName(query.q, PAGE) } };
});
