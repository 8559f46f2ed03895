// GET /api/users/search?q=: exact email or phone (E.164) of users who opted in, else a display-name
// prefix. Public fields only. Counted per account (the gate) and per source IP (the use case).
import { searchUsers as contract } from '#contract/users/search-users.ts';
import { searchPeople } from '#core/users.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { httpGate } from '#wiring/auth.ts';
import { people } from '#wiring/users.ts';

export const handler = httpHandler(contract, httpGate).handle(async ({ query, sourceIp }) => ({
  body: { users: await searchPeople(people(), query.q, sourceIp) },
}));
