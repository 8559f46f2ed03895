// Behind the edge (EDGE_ORIGIN_SECRET set, lib/constructs/edge.ts), the functions refuse requests that
// went around CloudFront, and take the client's address from CloudFront-Viewer-Address on the
// requests that came through it, never from a header alone. This file runs in its own process, with
// the secret in the environment before the middleware parses its configuration.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { httpContract } from '../contract/route.ts';
import { edgeCheck, viewerAddress } from '../functions/middleware/edge.ts';
import { captureOutput } from './support/capture.ts';

const SECRET = 'Zr7pQ2xW9kLm4Ns8Vb3Hc6Jd1Fg5Ty0Ue2Io7Pa9Sx4Cv6Bn';
process.env.EDGE_ORIGIN_SECRET = SECRET;
process.env.LOG_LEVEL = 'SILENT';
const { httpHandler } = await import('../functions/middleware/http-handler.ts');
const { handler: authorize } = await import('../functions/ws/authorize.ts');

const GATEWAY_IP = '130.176.1.17';
const VIEWER_IP = '198.51.100.7';

describe('edgeCheck', () => {
  test('without an edge secret every request is allowed and the gateway source IP is the client, whatever the headers claim', () => {
    assert.deepEqual(edgeCheck({ 'cloudfront-viewer-address': `${VIEWER_IP}:443` }, GATEWAY_IP, undefined), { allowed: true, clientIp: GATEWAY_IP });
  });

  test('with one, a request without the header, or with another value, is refused and named by its source IP', () => {
    for (const headers of [undefined, {}, { 'x-origin-verify': '' }, { 'x-origin-verify': `${SECRET}x` }, { 'x-origin-verify': SECRET.slice(1) }]) {
      assert.deepEqual(edgeCheck({ ...headers, 'cloudfront-viewer-address': `${VIEWER_IP}:443` }, GATEWAY_IP, SECRET), {
        allowed: false,
        clientIp: GATEWAY_IP,
      });
    }
  });

  test("a request through CloudFront is allowed and named by the viewer's address; without one, the source IP stays, with one warning", async () => {
    assert.deepEqual(edgeCheck({ 'x-origin-verify': SECRET, 'cloudfront-viewer-address': `${VIEWER_IP}:46532` }, GATEWAY_IP, SECRET), {
      allowed: true,
      clientIp: VIEWER_IP,
    });
    const logs = await captureOutput(async () => {
      assert.deepEqual(edgeCheck({ 'x-origin-verify': SECRET }, GATEWAY_IP, SECRET), { allowed: true, clientIp: GATEWAY_IP });
      assert.deepEqual(edgeCheck({ 'x-origin-verify': SECRET, 'cloudfront-viewer-address': 'not an address' }, GATEWAY_IP, SECRET), {
        allowed: true,
        clientIp: GATEWAY_IP,
      });
    }, 'INFO');
    assert.equal(logs.match(/without CloudFront-Viewer-Address/g)?.length, 1, 'warned once per container');
  });

  test('header names in any case (WebSocket and authorizer events keep the client’s case)', () => {
    assert.deepEqual(edgeCheck({ 'X-Origin-Verify': SECRET, 'CloudFront-Viewer-Address': `${VIEWER_IP}:1` }, GATEWAY_IP, SECRET), {
      allowed: true,
      clientIp: VIEWER_IP,
    });
  });

  test('viewerAddress: IPv4 and IPv6 with their port, bracketed or not; anything else is nothing', () => {
    assert.equal(viewerAddress('198.51.100.7:46532'), '198.51.100.7');
    assert.equal(viewerAddress('2001:db8::7:46532'), '2001:db8::7');
    assert.equal(viewerAddress('[2001:db8::7]:443'), '2001:db8::7');
    for (const bad of [undefined, '', '198.51.100.7', ':443', 'evil.example.com:443', '1.2.3.4; drop:1'])
      assert.equal(viewerAddress(bad), undefined, String(bad));
  });
});

const route = httpContract({
  id: 'EdgeEcho',
  method: 'GET',
  path: '/api/test/edge',
  access: 'public',
  summary: 'test route',
  input: {},
  output: { 200: z.object({ ip: z.string() }) },
});
const seen: string[] = [];
const echo = httpHandler(route).handle(async ({ sourceIp }) => {
  seen.push(sourceIp);
  return { body: { ip: sourceIp } };
});
const context = { awsRequestId: 'req', functionName: 'test', getRemainingTimeInMillis: () => 1000 } as unknown as Context;

function event(headers: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /api/test/edge',
    rawPath: '/api/test/edge',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '1',
      apiId: 'a',
      domainName: 'api-origin.chat.example.com',
      domainPrefix: 'api-origin',
      http: { method: 'GET', path: '/api/test/edge', protocol: 'HTTP/1.1', sourceIp: GATEWAY_IP, userAgent: 'Amazon CloudFront' },
      requestId: 'r1',
      routeKey: 'GET /api/test/edge',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    isBase64Encoded: false,
  };
}

describe('httpHandler behind the edge', () => {
  test('a request that went around CloudFront is a 403 edge_only, with the security headers, and the route never runs', async () => {
    seen.length = 0;
    const attempts: Record<string, string>[] = [{}, { 'x-origin-verify': 'guess' }, { 'cloudfront-viewer-address': `${VIEWER_IP}:443` }];
    for (const headers of attempts) {
      const res = await echo(event(headers), context);
      assert.equal(res.statusCode, 403);
      assert.equal(JSON.parse(res.body!).error.code, 'edge_only');
      assert.equal(res.headers?.['Strict-Transport-Security'], 'max-age=31536000; includeSubDomains; preload');
      assert.equal(res.headers?.['X-Content-Type-Options'], 'nosniff');
    }
    assert.deepEqual(seen, []);
  });

  test("a request through CloudFront runs, and the route sees the viewer's address as its source IP", async () => {
    const res = await echo(event({ 'x-origin-verify': SECRET, 'cloudfront-viewer-address': `${VIEWER_IP}:46532` }), context);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(JSON.parse(res.body!), { ip: VIEWER_IP });
  });
});

describe('the $connect authorizer behind the edge', () => {
  test('refuses a connection that went around CloudFront before it looks at (and spends) the ticket', async () => {
    const connect = {
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc/edge/$connect',
      headers: { Host: 'ws-origin.chat.example.com' },
      queryStringParameters: { ticket: 'a'.repeat(43) },
      requestContext: { requestId: 'r2', identity: { sourceIp: GATEWAY_IP } },
    } as unknown as APIGatewayRequestAuthorizerEvent;
    let error: unknown;
    const logs = await captureOutput(async () => {
      error = await authorize(connect).catch((e: unknown) => e);
    }, 'INFO');
    assert.ok(error instanceof Error && error.message === 'Unauthorized', String(error));
    assert.match(logs, /"reason":"not through the edge"/);
  });
});
