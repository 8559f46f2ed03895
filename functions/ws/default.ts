// $default: frames whose `action` names no route land here. Ping gets pong; anything else an error frame.
import { BadRequest } from '#core/errors.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { routes, wsRoutes } from '#lib/routes.ts';

const actions = wsRoutes.map((r) => r.routeKey).filter((k) => !k.startsWith('$'));

export const handler = wsHandler(routes.wsDefault, async ({ input, reply }) => {
  if (input.action !== 'ping') {
    throw new BadRequest(`Unknown action "${input.action.slice(0, 64)}"; known actions: ${['ping', ...actions].join(', ')}`, 'unknown_action');
  }
  await reply({ type: 'pong', time: new Date().toISOString() });
});
