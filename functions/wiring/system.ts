// Composition root of the health check.
import { dynamoHealth } from '#adapters/dynamodb/health-probe.ts';
import type { Config } from '#core/config.ts';
import type { Clock, HealthPort } from '#core/ports.ts';
import { clock, config, db } from './platform.ts';

export function system(): { health: HealthPort; config: Config; clock: Clock } {
  return { health: dynamoHealth(db()), config: config(), clock: clock() };
}
