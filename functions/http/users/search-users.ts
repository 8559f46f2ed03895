// GET /api/users/search?q=: exact email or phone (E.164), else a display-name prefix. Public fields only.
import { searchUsers as contract } from '#contract/users/search-users.ts';
import { searchPeople } from '#core/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate, users } from '#wiring/auth.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ query }) => ({ body: { users: await searchPeople({ users: users() }, query.q) } }));
