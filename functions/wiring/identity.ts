// Composition root of identity: accounts, sessions, codes. Three shapes, so a route bundles only
// what it uses: plain flows, flows that deliver a code (SES/SNS or the dev outbox), and flows that
// end sessions and therefore close sockets (@connections).
import { awsNotifier } from '#adapters/aws/otp-notifier.ts';
import { devOutbox } from '#adapters/dev-outbox.ts';
import { challengesTable } from '#adapters/dynamodb/ephemeral-table.ts';
import type { DeletionDeps, DeliveryDeps, IdentityDeps, SocketDeps } from '#core/identity.ts';
import type { ChallengesPort, NotifierPort } from '#core/ports.ts';
import { authDeps, events, limits } from './auth.ts';
import { clock, config, db } from './platform.ts';
import { connections } from './realtime.ts';
import { publicKeyStore } from './stores.ts';

let challengesPort: ChallengesPort | undefined;
let notifierPort: NotifierPort | undefined;

function challenges(): ChallengesPort {
  return (challengesPort ??= challengesTable(db(), clock()));
}

function notifier(): NotifierPort {
  if (notifierPort) return notifierPort;
  const c = config();
  const now = () => clock().now();
  return (notifierPort = c.outboxFile ? devOutbox(c.outboxFile, c.outboxEcho, now) : awsNotifier({ region: c.region }, c.otp.sesFromAddress, now));
}

export function identity(): IdentityDeps {
  return { ...authDeps(), challenges: challenges(), limits: limits(), events };
}

export function identityWithDelivery(): DeliveryDeps {
  return { ...identity(), notifier: notifier() };
}

export function identityWithSockets(): SocketDeps {
  return { ...identity(), connections: connections() };
}

export function accountDeletion(): DeletionDeps {
  return { ...identityWithSockets(), publicKeys: publicKeyStore() };
}
