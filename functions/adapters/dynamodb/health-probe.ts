// The DynamoDB reachability probe: one GetItem on a key that never exists (the cheapest read).
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { HealthPort } from '#core/ports.ts';
import type { Db } from './db.ts';

export function dynamoHealth(db: Db): HealthPort {
  return {
    async probe() {
      await db.doc.send(new GetCommand({ TableName: db.table('ephemeral'), Key: { pk: 'HEALTH#probe', sk: 'HEALTH#probe' } }));
    },
  };
}
