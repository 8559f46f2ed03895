// Composition root of the signed-in checks every route shares: the user and session tables, the
// signing keys (Secrets Manager through the Lambda extension in AWS, the dev secrets file on the
// laptop), the per-user limits,
// security events, and the gates the middleware runs before a handler.
import { extensionSigningKeys } from '#adapters/aws/signing-secret.ts';
import { limitsTable } from '#adapters/dynamodb/ephemeral-table.ts';
import { sessionsTable } from '#adapters/dynamodb/sessions-table.ts';
import { usersTable } from '#adapters/dynamodb/users-table.ts';
import { devFileSigningKeys } from '#adapters/signing-keys-cache.ts';
import { authenticate, checkLiveSession, liveSession, type AuthDeps } from '#core/authn.ts';
import type { LimitsPort, SecurityEventsPort, SessionsPort, SigningKeysPort, UsersPort } from '#core/ports.ts';
import { enforce } from '#core/rate-limit.ts';
import { logger } from '#middleware/logger.ts';
import type { HttpGate } from '#middleware/http-handler.ts';
import type { SocketGate } from '#middleware/ws-handler.ts';
import { clock, config, db } from './platform.ts';

let usersPort: UsersPort | undefined;
let sessionsPort: SessionsPort | undefined;
let limitsPort: LimitsPort | undefined;
let keysPort: SigningKeysPort | undefined;
let httpGatePort: HttpGate | undefined;
let socketGatePort: SocketGate | undefined;
let staffGatePort: HttpGate | undefined;

export function users(): UsersPort {
  return (usersPort ??= usersTable(db(), clock()));
}

export function sessions(): SessionsPort {
  return (sessionsPort ??= sessionsTable(db(), clock()));
}

export function limits(): LimitsPort {
  return (limitsPort ??= limitsTable(db(), clock()));
}

/** Resolved at first use, so a route that refuses a request early never needs the secret. */
export function signingKeys(): SigningKeysPort {
  return {
    current() {
      if (!keysPort) {
        const { secrets } = config();
        const now = () => clock().now();
        if (secrets.devFile) keysPort = devFileSigningKeys(secrets.devFile, now);
        else if (secrets.arn) keysPort = extensionSigningKeys(secrets.arn, now);
        else return Promise.reject(new Error('AUTH_SECRET_ARN is not set: this function has no grant on the auth secret'));
      }
      return keysPort.current();
    },
  };
}

/** Security events go to the structured log; reuse and failures as warnings. */
export const events: SecurityEventsPort = {
  record(name, data) {
    const warn = name === 'refresh_token_reuse' || name.endsWith('_failed');
    (warn ? logger.warn : logger.info).call(logger, 'security event', { event: name, ...data });
  },
};

export function authDeps(): AuthDeps {
  return { config: config(), clock: clock(), signingKeys: signingKeys(), users: users(), sessions: sessions() };
}

/** HTTP routes: a bearer access token, then the per-user limit. */
export function httpGate(): HttpGate {
  return (httpGatePort ??= {
    authenticate: (authorization) => authenticate(authDeps(), authorization),
    limit: (name, key) => enforce({ limits: limits(), config: config(), clock: clock() }, name, key),
  });
}

/**
 * Staff (admin and moderator) routes: a bearer access token only. They have no per-user limit and no
 * grant on the limits table, so this gate keeps the limiter out of their bundles.
 */
export function staffGate(): HttpGate {
  return (staffGatePort ??= {
    authenticate: (authorization) => authenticate(authDeps(), authorization),
    limit: () => Promise.reject(new Error('staff routes have no per-user limit')),
  });
}

/** WebSocket frames: the connection's session must still be alive (no token on a socket). */
export function socketGate(): SocketGate {
  return (socketGatePort ??= {
    liveSession: (userId, sessionId) => liveSession({ users: users(), sessions: sessions(), clock: clock() }, userId, sessionId),
    checkSession: (user, family) => checkLiveSession(user, family, clock().now()),
    limit: (name, key) => enforce({ limits: limits(), config: config(), clock: clock() }, name, key),
  });
}
