// $default: frames whose `action` names no route land here. Ping gets pong; anything else an error frame.
import { BadRequest } from '#core/errors.ts';
import { clock } from '#wiring/platform.ts';
import { wsHandler } from '#middleware/ws-handler.ts';
import { wsActions, wsDefault as contract } from '#contract/realtime/default.ts';

export const handler = wsHandler(contract).handle(async ({ input, reply }) => {
  if (input.action !== 'ping') {
    throw new BadRequest(`Unknown action "${input.action.slice(0, 64)}"; known actions: ${wsActions.join(', ')}`, 'unknown_action');
  }
  await reply({ type: 'pong', time: new Date(clock().now()).toISOString() });
});
