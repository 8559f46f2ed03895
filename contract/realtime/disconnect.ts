// $disconnect
import { wsContract } from '../route.ts';

export const wsDisconnect = wsContract({
  id: 'WsDisconnect',
  routeKey: '$disconnect',
  access: 'user',
  summary: 'Forgets a closed connection; the last one announces offline with lastSeen',
  output: {},
});
