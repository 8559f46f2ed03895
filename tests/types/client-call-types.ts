// Compile-time checks of the SDK's typed call(): inputs and outputs come from the route's contract.
// `npm test` type-checks this file; every `@ts-expect-error` must still be an error. Never executed.
import { ApiError, NexChatClient, type ApiErrorCode, type RouteOutput } from '../../client/index.ts';

declare const client: NexChatClient;

export async function ok() {
  const group = await client.call('GetGroup', { path: { conversationId: 'g_1' } });
  const names: string[] = group.members.map((m) => m.userId);
  const page = await client.call('SyncMessages', { query: { after: 'x' } });
  const more: boolean = page.hasMore;
  await client.call('SyncMessages', {}); // every query field is optional
  const login = await client.call('Login', { body: { email: 'a@example.com', password: 'pw' } });
  const ready = 'accessToken' in login ? login.accessToken : login.otpRequired; // 200 | 202
  const nothing: undefined = await client.call('Logout', {}); // 204
  await client.call('Refresh', {}); // the body is optional (cookie mode)
  const ticket: RouteOutput<'CreateWsTicket'> = await client.call('CreateWsTicket', {}, { signal: AbortSignal.timeout(1000), timeoutMs: 500 });
  return { names, more, ready, nothing, ticket };
}

export async function refused() {
  // @ts-expect-error an unknown route id
  await client.call('NoSuchRoute', {});
  // @ts-expect-error a path parameter is required
  await client.call('GetGroup', {});
  // @ts-expect-error a wrong path parameter name
  await client.call('GetGroup', { path: { groupId: 'g_1' } });
  // @ts-expect-error a body field the contract does not have
  await client.call('RenameGroup', { path: { conversationId: 'g' }, body: { title: 'x' } });
  const group = await client.call('GetGroup', { path: { conversationId: 'g_1' } });
  // @ts-expect-error the output has no such field
  void group.nosuch;
}

export function codes(e: ApiError) {
  const known: ApiErrorCode = 'members_changed';
  // @ts-expect-error not a code the server (or the SDK) ever sends
  const unknown: ApiErrorCode = 'members_changd';
  // @ts-expect-error comparing with a code that does not exist is a compile error
  if (e.code === 'no_such_code') return;
  return [known, unknown];
}
