// Composition root of profiles and people search.
import type { Config } from '#core/config.ts';
import type { Clock, LimitsPort, UsersPort } from '#core/ports.ts';
import { limits, users } from './auth.ts';
import { clock, config } from './platform.ts';

/** People search: the users store and the per-address search limit. */
export function people(): { users: UsersPort; limits: LimitsPort; config: Config; clock: Clock } {
  return { users: users(), limits: limits(), config: config(), clock: clock() };
}
