// Stand-in for @aws-sdk/credential-provider-node in Lambda bundles only: lib/bundling.ts aliases that
// package to this module, so every SDK client's default credentials come from the environment alone.
//
// Why it is safe: Lambda puts the execution role's credentials in AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and the default chain's first link is exactly this
// fromEnv read (AWS_PROFILE is never set there, which is the only thing that makes the chain skip
// it). So in Lambda the real chain never gets past its first link, and this module answers the same.
// Why bother: the rest of the chain (SSO, ini files, credential_process, web identity, IMDS/ECS,
// login, token providers, with their nested STS/SSO clients) is ~93 KB of minified code that every
// route bundles and parses on each cold start, and never runs. Outside Lambda nothing is aliased:
// the laptop runtime, tests and tools import the real SDK unbundled and keep the full chain.
//
// The exports mirror credential-provider-node's dist-es/index.js, so every import of it resolves.
// No memoizing: reading six environment variables per signed request costs nothing, and the client
// config marks whatever this returns as memoized either way.
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';

type Credentials = Awaited<ReturnType<ReturnType<typeof fromEnv>>>;

/** 5 minutes, as in credential-provider-node: how early expiring credentials count as expired. */
const EXPIRY_WINDOW_MS = 300_000;

/** The SDK clients' `credentialDefaultProvider`: environment variables only. */
export const defaultProvider = (init: FromEnvInit = {}): ReturnType<typeof fromEnv> => fromEnv(init);

export const credentialsWillNeedRefresh = (credentials: Credentials | undefined): boolean => credentials?.expiration !== undefined;

export const credentialsTreatedAsExpired = (credentials: Credentials | undefined): boolean =>
  // eslint-disable-next-line no-restricted-properties -- credential expiry is real time, as in the SDK
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < EXPIRY_WINDOW_MS;
