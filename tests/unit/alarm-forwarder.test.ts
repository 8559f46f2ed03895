// The alarm forwarder: SNS delivers CloudWatch alarm notifications, the handler turns each into one
// short line and posts it to the chat webhook whose URL it reads from the secrets extension. Driven
// through the real handler, wiring and adapters with an injected fetch standing in for both the
// extension (localhost:2773) and the chat service; the bundle is built as CDK builds it.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { SNSEvent } from 'aws-lambda';
import { build } from 'esbuild';
import { webhookFormats } from '../../contract/internal/alarm-webhook.ts';
import { alarmNotice, MAX_NOTICE_CHARS } from '../../functions/core/alarm-notice.ts';
import { logger } from '../../functions/middleware/logger.ts';
import { forwardAlarmHandler } from '../../functions/topic/forward-alarm.ts';
import { alarmForwarder } from '../../functions/wiring/alarm-forwarder.ts';
import { esbuildOptions } from '../../lib/bundling.ts';
import { alarmForwarderSpec } from '../../lib/constructs/monitoring.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nexchat/alarm-webhook-AbCdEf';
const WEBHOOK = 'https://hooks.example.com/services/T000/B000/sekrit-token';
const ALARM_ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:NexChat-prod-SendMessage-Errors';

/** A CloudWatch alarm notification as SNS delivers it (the fields we read, and some we do not). */
function alarmMessage(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    AlarmName: 'NexChat-prod-SendMessage-Errors',
    AlarmDescription: 'NexChat prod: WsSendMessage failed 3 or more invocations in 5 minutes',
    AWSAccountId: '123456789012',
    NewStateValue: 'ALARM',
    NewStateReason: 'Threshold Crossed: 1 datapoint [4.0 (01/06/26 10:00:00)] was greater than or equal to the threshold (3.0).',
    StateChangeTime: '2026-06-01T10:05:00.000+0000',
    Region: 'EU (Ireland)',
    AlarmArn: ALARM_ARN,
    OldStateValue: 'OK',
    Trigger: { MetricName: 'Errors', Namespace: 'AWS/Lambda' },
    ...over,
  });
}

function snsEvent(...messages: { subject?: string | null; message: string }[]): SNSEvent {
  return {
    Records: messages.map((m, i) => ({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: 'arn:aws:sns:eu-west-1:123456789012:alarms:sub',
      Sns: { Subject: m.subject ?? null, Message: m.message, MessageId: `m${i}`, TopicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms' },
    })),
  } as unknown as SNSEvent;
}

interface Call {
  url: string;
  init: RequestInit | undefined;
}

/** A fetch that plays the secrets extension (GET localhost:2773) and the chat service (POST elsewhere). */
function fakeFetch(options: { secret?: string; extensionStatus?: number; webhookStatus?: number } = {}) {
  const calls: Call[] = [];
  const fetcher = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init });
    if (url.startsWith('http://localhost:2773/')) {
      return new Response(JSON.stringify({ SecretString: options.secret ?? WEBHOOK }), { status: options.extensionStatus ?? 200 });
    }
    return new Response('ok', { status: options.webhookStatus ?? 200 });
  }) as typeof fetch;
  return { calls, fetcher, posts: () => calls.filter((c) => !c.url.startsWith('http://localhost:2773/')) };
}

const env = (over: Record<string, string | undefined> = {}) => ({
  ALARM_WEBHOOK_SECRET_ARN: SECRET_ARN,
  ALARM_WEBHOOK_FORMAT: 'slack',
  AWS_SESSION_TOKEN: 'session-token-of-this-environment',
  ...over,
});

before(() => logger.setLogLevel('SILENT'));

describe('alarm notices', () => {
  test('a state change becomes one short message: state, name, meaning, reason, and a console link for its region', () => {
    const text = alarmNotice({ subject: 'ALARM: "NexChat-prod-SendMessage-Errors" in EU (Ireland)', message: alarmMessage() });
    const lines = text.split('\n');
    assert.equal(lines[0], '[ALARM] NexChat-prod-SendMessage-Errors: NexChat prod: WsSendMessage failed 3 or more invocations in 5 minutes');
    assert.match(lines[1]!, /^Threshold Crossed: 1 datapoint/);
    assert.equal(lines[2], 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/NexChat-prod-SendMessage-Errors');
    assert.match(alarmNotice({ message: alarmMessage({ NewStateValue: 'OK' }) }), /^\[OK\] NexChat-prod-SendMessage-Errors/);
    assert.doesNotMatch(alarmNotice({ message: alarmMessage({ AlarmArn: undefined }) }), /console/, 'no ARN, no link (Region is a display name)');
  });

  test('anything else published to the topic is passed on as subject and body', () => {
    assert.equal(alarmNotice({ subject: 'Test', message: 'hello from the console' }), 'Test: hello from the console');
    assert.equal(alarmNotice({ message: '{"not":"an alarm"}' }), '{"not":"an alarm"}');
  });

  test(`a long reason is clipped to ${MAX_NOTICE_CHARS} characters, and the link stays whole`, () => {
    const text = alarmNotice({ message: alarmMessage({ NewStateReason: 'x'.repeat(5000) }) });
    assert.ok(text.length <= MAX_NOTICE_CHARS, `${text.length} characters`);
    assert.ok(text.endsWith(`\nhttps://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/NexChat-prod-SendMessage-Errors`));
    assert.match(text, /x…\n/);
    assert.ok(alarmNotice({ message: 'y'.repeat(5000) }).length <= MAX_NOTICE_CHARS);
  });
});

describe('the forwarder handler (injected fetch)', () => {
  test('reads the webhook URL from the secrets extension with the session token, then posts one message per notification', async () => {
    const f = fakeFetch();
    const handler = forwardAlarmHandler(() => alarmForwarder(env(), f.fetcher));
    await handler(snsEvent({ message: alarmMessage() }, { message: alarmMessage({ NewStateValue: 'OK' }) }));
    const reads = f.calls.filter((c) => c.url.startsWith('http://localhost:2773/'));
    assert.ok(reads.length >= 1);
    assert.equal(reads[0]!.url, `http://localhost:2773/secretsmanager/get?secretId=${encodeURIComponent(SECRET_ARN)}`);
    assert.equal(new Headers(reads[0]!.init?.headers).get('x-aws-parameters-secrets-token'), 'session-token-of-this-environment');
    const posts = f.posts();
    assert.equal(posts.length, 2);
    for (const p of posts) {
      assert.equal(p.url, WEBHOOK);
      assert.equal(p.init?.method, 'POST');
      assert.equal(new Headers(p.init?.headers).get('content-type'), 'application/json');
    }
    assert.match(JSON.parse(String(posts[0]!.init?.body)).text, /^\[ALARM\] NexChat-prod-SendMessage-Errors/);
    assert.match(JSON.parse(String(posts[1]!.init?.body)).text, /^\[OK\] /);
  });

  test('each format posts the body its chat service expects', async () => {
    const bodies: Record<string, unknown> = {};
    for (const format of webhookFormats) {
      const f = fakeFetch();
      await forwardAlarmHandler(() => alarmForwarder(env({ ALARM_WEBHOOK_FORMAT: format }), f.fetcher))(snsEvent({ message: 'hi' }));
      bodies[format] = JSON.parse(String(f.posts()[0]!.init?.body));
    }
    assert.deepEqual(bodies.slack, { text: 'hi' });
    assert.deepEqual(bodies.chime, { Content: 'hi' });
    assert.deepEqual(bodies.teams, {
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'hi', wrap: true }] },
        },
      ],
    });
  });

  test('the secret may hold {"url": ...}; it must be https', async () => {
    const json = fakeFetch({ secret: JSON.stringify({ url: WEBHOOK }) });
    await forwardAlarmHandler(() => alarmForwarder(env(), json.fetcher))(snsEvent({ message: 'hi' }));
    assert.equal(json.posts()[0]!.url, WEBHOOK);
    for (const secret of ['http://hooks.example.com/x', 'not a url', '{"link":"https://x.example"}']) {
      const f = fakeFetch({ secret });
      await assert.rejects(forwardAlarmHandler(() => alarmForwarder(env(), f.fetcher))(snsEvent({ message: 'hi' })), /https|no URL/, secret);
      assert.equal(f.posts().length, 0, `${secret}: nothing posted`);
    }
  });

  test('a failed post or secret read fails the invocation (Lambda retries it), naming the host but never the URL', async () => {
    const down = fakeFetch({ webhookStatus: 500 });
    await assert.rejects(forwardAlarmHandler(() => alarmForwarder(env(), down.fetcher))(snsEvent({ message: 'hi' })), (e: Error) => {
      assert.match(e.message, /hooks\.example\.com answered 500/);
      assert.doesNotMatch(e.message, /sekrit-token/);
      return true;
    });
    const noSecret = fakeFetch({ extensionStatus: 403 });
    await assert.rejects(forwardAlarmHandler(() => alarmForwarder(env(), noSecret.fetcher))(snsEvent({ message: 'hi' })), /secrets extension answered 403/);
  });

  test('the environment is checked: the secret ARN is required, the format must be known', () => {
    assert.throws(() => alarmForwarder(env({ ALARM_WEBHOOK_SECRET_ARN: undefined }), fakeFetch().fetcher), /ALARM_WEBHOOK_SECRET_ARN is not set/);
    assert.throws(
      () => alarmForwarder(env({ ALARM_WEBHOOK_FORMAT: 'discord' }), fakeFetch().fetcher),
      /ALARM_WEBHOOK_FORMAT must be one of slack, teams, chime/,
    );
    assert.doesNotThrow(() => alarmForwarder(env({ ALARM_WEBHOOK_FORMAT: undefined }), fakeFetch().fetcher), 'slack by default');
  });
});

describe('the forwarder bundle', () => {
  test('holds no AWS SDK and no contract but its own format list, and stays under 10 KB', async () => {
    const result = await build({
      ...esbuildOptions,
      absWorkingDir: join(import.meta.dirname, '..', '..'),
      entryPoints: { index: alarmForwarderSpec.handler },
      outdir: join(tmpdir(), 'nexchat-forwarder-bundle-test'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.deepEqual(
      inputs.filter((i) => i.includes('node_modules/')),
      [],
      'no packages at all',
    );
    assert.deepEqual(
      inputs.filter((i) => i.startsWith('contract/')),
      ['contract/internal/alarm-webhook.ts'],
    );
    const js = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!;
    assert.ok(js.contents.length < 10 * 1024, `${js.contents.length} bytes`);
  });
});
