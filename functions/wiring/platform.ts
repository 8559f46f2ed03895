// The composition roots' shared ground, created once per container (Lambda) or per process (laptop):
// the configuration parsed from the environment at first use, the clock, and the DynamoDB client.
// Everything here is lazy, so a bundle pays only for what its route reaches.
import { createDb, type Db } from '#adapters/dynamodb/db.ts';
import { loadConfig, type Config } from '#core/config.ts';
import type { Clock } from '#core/ports.ts';

let parsedConfig: Config | undefined;
let database: Db | undefined;
let current: Clock = { now: () => Date.now() };

/** Parsed once, on first use. */
export function config(): Config {
  return (parsedConfig ??= loadConfig(process.env));
}

/** One stable object: adapters keep it, and it always reads the clock in use. */
const clockHandle: Clock = { now: () => current.now() };

export function clock(): Clock {
  return clockHandle;
}

export function db(): Db {
  return (database ??= createDb(config()));
}

/**
 * The laptop runtime (and through it the tests) may run the handlers on its own clock, so time can
 * be moved without editing items or sleeping. Refused inside Lambda.
 */
export function useClock(clock: Clock): void {
  if (config().inLambda) throw new Error('useClock() is for the laptop runtime only');
  current = clock;
}
