// Behind the edge (lib/constructs/edge.ts), CloudFront adds a secret header to every request it sends
// to the APIs; a request without it went around CloudFront and its WAF, straight to an origin host
// name. Such a request is refused, and only a request that has it is believed about the viewer's
// address (CloudFront-Viewer-Address): API Gateway's own source IP is then one of CloudFront's.
import { createHash, timingSafeEqual } from 'node:crypto';
import { logger } from './logger.ts';

/** Set by CloudFront as an origin custom header (ORIGIN_VERIFY_HEADER in lib/constructs/edge.ts). */
export const ORIGIN_VERIFY_HEADER = 'x-origin-verify';
/** "198.51.100.7:46532" or "2001:db8::7:46532": the viewer's address and port, as CloudFront saw them. */
export const VIEWER_ADDRESS_HEADER = 'cloudfront-viewer-address';

export interface EdgeCheck {
  /** False only when the stack is behind the edge and the request did not come through it. */
  readonly allowed: boolean;
  /** The client's address: the viewer's behind the edge, else the gateway's source IP. */
  readonly clientIp: string;
}

type Headers = Readonly<Record<string, string | undefined>> | null | undefined;

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of the header with the configured secret (hashed, so lengths do not leak either). */
function verified(headers: Headers, secret: string): boolean {
  const presented = header(headers, ORIGIN_VERIFY_HEADER);
  return presented !== undefined && timingSafeEqual(digest(presented), digest(secret));
}

/** API Gateway lower-cases HTTP API header names; WebSocket and authorizer events keep the client's case. */
function header(headers: Headers, name: string): string | undefined {
  if (!headers) return undefined;
  if (headers[name] !== undefined) return headers[name];
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** The address part of CloudFront-Viewer-Address (the port is after the last colon, IPv4 and IPv6 alike). */
export function viewerAddress(value: string | undefined): string | undefined {
  const cut = value?.trim().lastIndexOf(':') ?? -1;
  if (!value || cut <= 0) return undefined;
  const address = value
    .trim()
    .slice(0, cut)
    .replace(/^\[(.*)\]$/, '$1');
  return /^[0-9A-Fa-f.:]{2,45}$/.test(address) ? address : undefined;
}

/**
 * Where a request came from. Without an edge secret (the laptop, or a stack without the edge) the
 * gateway's source IP is the client's. With one, a request without the right header is not allowed,
 * and an allowed one names its viewer in CloudFront-Viewer-Address (if CloudFront left it out, the
 * source IP is kept: per-IP limits then count per CloudFront address, which is safe, only coarse).
 */
export function edgeCheck(headers: Headers, sourceIp: string, secret: string | undefined): EdgeCheck {
  if (secret === undefined) return { allowed: true, clientIp: sourceIp };
  if (!verified(headers, secret)) return { allowed: false, clientIp: sourceIp };
  const viewer = viewerAddress(header(headers, VIEWER_ADDRESS_HEADER));
  if (!viewer) warnNoViewerOnce();
  return { allowed: true, clientIp: viewer ?? sourceIp };
}

let warned = false;

/** Once per container: the operator should know when per-IP limits have become per CloudFront address. */
function warnNoViewerOnce(): void {
  if (warned) return;
  warned = true;
  logger.warn('edge: a request through CloudFront came without CloudFront-Viewer-Address; per-IP limits count per CloudFront address');
}
