// CORS for browser apps on another origin: one definition used by the CDK stack (the HTTP API's
// corsPreflight, answered by API Gateway itself) and by the local gateway (same behaviour on the
// laptop). Only listed origins get CORS headers; credentials are allowed for the refresh cookie.
export const corsPolicy = {
  allowHeaders: ['authorization', 'content-type'],
  allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  exposeHeaders: ['retry-after', 'ratelimit', 'ratelimit-policy'],
  allowCredentials: true,
  maxAgeSeconds: 3600,
} as const;

/** "https://app.example.com,https://admin.example.com" → exact origins (no wildcards with credentials). */
export function parseOrigins(value: string | undefined): string[] {
  const origins = (value ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of origins) {
    if (!/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(o)) throw new Error(`CORS origin must be scheme://host[:port] without a path: ${o}`);
  }
  return origins;
}
