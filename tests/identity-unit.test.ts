// Pure identity pieces: the deployed password-hash parameters, OTP codes, configuration of the OTP
// rules, and the SES/SNS notifier checked at the SDK boundary (the only mock: AWS itself).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../functions/core/config.ts';
import { generateCode } from '../functions/core/otp.ts';
import { hashPassword, isCommonPassword, verifyPassword } from '../functions/core/passwords.ts';
import { awsNotifier } from '../functions/adapters/aws/otp-notifier.ts';
import { routes } from '../lib/routes.ts';

describe('password hashing', () => {
  test('deployments use scrypt N=2^17, r=8, p=1 and the hashing Lambdas have memory for it', async () => {
    const deployed = loadConfig({}).password;
    assert.deepEqual([deployed.log2N, deployed.r, deployed.p, deployed.saltBytes], [17, 8, 1, 32]);
    const hash = await hashPassword('correct horse battery staple', deployed);
    assert.match(hash, /^scrypt\$17\$8\$1\$[\w-]{43}\$[\w-]{86}$/);
    assert.equal(await verifyPassword('correct horse battery staple', hash), true);
    assert.equal(await verifyPassword('correct horse battery stapl', hash), false);
    // 128 * N * r bytes = 128 MiB for scrypt itself
    for (const r of [routes.register, routes.login, routes.changePassword]) assert.ok((r.memoryMb ?? 0) >= 1024, r.id);
  });

  test('each hash has its own salt', async () => {
    const params = { ...loadConfig({}).password, log2N: 10 };
    assert.notEqual(await hashPassword('same-password', params), await hashPassword('same-password', params));
  });

  test('the most common passwords are refused, in any case', async () => {
    for (const p of ['password', 'Password1', '12345678', 'iloveyou', 'QWERTYUIOP']) assert.equal(await isCommonPassword(p), true, p);
    assert.equal(await isCommonPassword('violet-otter-sings-42'), false);
  });
});

describe('OTP codes', () => {
  test('six digits from a CSPRNG, leading zeros kept', () => {
    const codes = Array.from({ length: 5000 }, generateCode);
    assert.ok(codes.every((c) => /^\d{6}$/.test(c)));
    assert.ok(new Set(codes).size > 4900, 'codes repeat far too often');
    assert.ok(
      codes.some((c) => c.startsWith('0')),
      'leading zeros are part of the space',
    );
  });

  test('OTP_REQUIRED_FOR configures registration and login; defaults: registration only', () => {
    assert.deepEqual(loadConfig({}).otp.requiredFor, { register: true, login: false });
    assert.deepEqual(loadConfig({ OTP_REQUIRED_FOR: 'register,login' }).otp.requiredFor, { register: true, login: true });
    assert.deepEqual(loadConfig({ OTP_REQUIRED_FOR: 'login' }).otp.requiredFor, { register: false, login: true });
    assert.deepEqual(loadConfig({ OTP_REQUIRED_FOR: 'none' }).otp.requiredFor, { register: false, login: false });
    assert.throws(() => loadConfig({ OTP_REQUIRED_FOR: 'sometimes' }), /OTP_REQUIRED_FOR/);
    const c = loadConfig({});
    assert.deepEqual([c.otp.ttlSeconds, c.otp.maxAttempts, c.tokens.accessTtlSeconds, c.tokens.refreshTtlSeconds], [300, 5, 900, 30 * 24 * 3600]);
  });

  test('the dev outbox and dev secrets are refused inside Lambda', () => {
    assert.throws(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f', NEXCHAT_OUTBOX_FILE: '/tmp/o' }), /dev outbox/);
    assert.throws(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f', NEXCHAT_DEV_SECRETS_FILE: '/tmp/s' }), /dev secrets/);
  });
});

describe('AWS notifier (SES and SNS mocked at the SDK boundary)', () => {
  test('email goes through SES with the code in the body; SMS through SNS as Transactional', async () => {
    const ses = mockClient(SESClient);
    const sns = mockClient(SNSClient);
    ses.on(SendEmailCommand).resolves({ MessageId: 'm1' });
    sns.on(PublishCommand).resolves({ MessageId: 'm2' });
    const now = 1_800_000_000_000;
    const notifier = awsNotifier(
      { ses: new SESClient({ region: 'us-east-1' }), sns: new SNSClient({ region: 'us-east-1' }) },
      'no-reply@nexchat.example',
      () => now,
    );
    const expiresAt = now + 300_000;
    await notifier.sendOtp({ deliver: true, channel: 'email', destination: 'ada@example.test', purpose: 'login', code: '042137', expiresAt });
    await notifier.sendOtp({ deliver: true, channel: 'sms', destination: '+14155550123', purpose: 'register', code: '990001', expiresAt });
    const email = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    assert.equal(email.Source, 'no-reply@nexchat.example');
    assert.deepEqual(email.Destination?.ToAddresses, ['ada@example.test']);
    assert.match(email.Message?.Body?.Text?.Data ?? '', /042137.*5 minutes/);
    const sms = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    assert.equal(sms.PhoneNumber, '+14155550123');
    assert.match(sms.Message ?? '', /990001/);
    assert.equal(sms.MessageAttributes?.['AWS.SNS.SMS.SMSType']?.StringValue, 'Transactional');
    assert.equal(sns.commandCalls(PublishCommand).length, 1);
    assert.equal(ses.commandCalls(SendEmailCommand).length, 1);
    ses.restore();
    sns.restore();
  });
});
