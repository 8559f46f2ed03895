// Composition root of identity: accounts, sessions, codes. A few shapes, so a route bundles only
// what it uses: plain flows, flows that issue a code (onto the OTP queue: SQS in AWS, an in-process
// queue on the laptop), and flows that end sessions and therefore close sockets (@connections).
import { purgeRequests } from '#adapters/dynamodb/attachment-items.ts';
import { sqsOtpQueue } from '#adapters/aws/otp-queue.ts';
import { deviceCleanup, deviceCreator } from '#adapters/dynamodb/devices-table.ts';
import { challengesTable } from '#adapters/dynamodb/ephemeral-table.ts';
import type { DeletionDeps, DeliveryDeps, IdentityDeps, LoginDeps, SignInDeps, SocketDeps } from '#core/identity.ts';
import type { ChallengesPort, NotifierPort } from '#core/ports.ts';
import { authDeps, events, limits } from './auth.ts';
import { metrics } from './metrics.ts';
import { clock, config, db } from './platform.ts';
import { connections } from './realtime.ts';
import { publicKeyStore } from './stores.ts';

let challengesPort: ChallengesPort | undefined;
let notifierPort: NotifierPort | undefined;

function challenges(): ChallengesPort {
  return (challengesPort ??= challengesTable(db(), clock()));
}

let localQueue: NotifierPort | undefined;

/** The laptop runtime's in-process OTP queue (local/queue.ts). Refused inside Lambda. */
export function useLocalOtpQueue(queue: NotifierPort): void {
  if (config().inLambda) throw new Error('useLocalOtpQueue() is for the laptop runtime only');
  localQueue = queue;
}

/** Codes are queued, never sent in the request: the consumer (functions/queue/deliver-otp.ts) sends them. */
function notifier(): NotifierPort {
  if (notifierPort) return notifierPort;
  const c = config();
  if (c.otpQueueUrl) return (notifierPort = sqsOtpQueue(c.otpQueueUrl, c.region));
  if (localQueue) return localQueue;
  throw new Error('OTP_QUEUE_URL is not set: this function has no right to issue codes');
}

export function identity(): IdentityDeps {
  return { ...authDeps(), challenges: challenges(), limits: limits(), events };
}

export function identityWithDelivery(): DeliveryDeps {
  return { ...identity(), notifier: notifier() };
}

/** Sign-ins (register, a claimed link): identity() and the device record each creates. */
export function identityForSignIn(): SignInDeps {
  return { ...identity(), devices: deviceCreator(db()) };
}

/** Login: identityWithDelivery(), the device record and the LoginFailures count. */
export function identityForLogin(): LoginDeps {
  return { ...identityWithDelivery(), devices: deviceCreator(db()), metrics: metrics() };
}

export function identityWithSockets(): SocketDeps {
  return { ...identity(), connections: connections() };
}

export function accountDeletion(): DeletionDeps {
  return { ...identityWithSockets(), publicKeys: publicKeyStore(), devices: deviceCleanup(db()), attachments: purgeRequests(db(), clock()) };
}
