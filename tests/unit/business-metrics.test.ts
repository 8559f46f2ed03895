// Business metrics over in-memory ports: each is counted once when its event has happened (a message
// stored, a login refused, a report stored) and never on the paths where it has not: refusals,
// retries of what is already stored, throttled attempts. (OtpsSent: tests/unit/otp-delivery.test.ts.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createReport } from '#core/moderation.ts';
import { sendMessage, sendToConversation } from '#core/conversations.ts';
import { login, requestOtp, type Identifier } from '#core/identity.ts';
import { directConversationId } from '#core/message-rules.ts';
import { addUser, deliveryDeps, fakeWorld, loginDeps, message, rejectsWith, reportingDeps, sendDeps, type World } from '../support/fakes.ts';

const IP = '198.51.100.7';
const PASSWORD = 'violet-otter-sings-42';
const email = (destination: string): Identifier => ({ channel: 'email', destination });
const counted = (w: World) => w.metrics.counted.map((c) => c.name);

describe('MessagesSent', () => {
  test('counts a message once when it is stored, whichever route sends it; a retry of the same clientMessageId is not a new one', async () => {
    const w = fakeWorld();
    const [ada, bob] = await Promise.all([addUser(w), addUser(w)]);
    const first = await sendMessage(sendDeps(w), ada.userId, bob.userId, message('metric-0001'));
    assert.equal(first.duplicate, false);
    assert.deepEqual(counted(w), ['MessagesSent']);
    const retry = await sendMessage(sendDeps(w), ada.userId, bob.userId, message('metric-0001'));
    assert.equal(retry.duplicate, true);
    const overHttp = await sendToConversation(sendDeps(w), ada.userId, directConversationId(ada.userId, bob.userId), message('metric-0001'));
    assert.equal(overHttp.duplicate, true);
    assert.equal(w.metrics.total('MessagesSent'), 1, 'retries over either route store nothing, so count nothing');
    await sendToConversation(sendDeps(w), bob.userId, directConversationId(ada.userId, bob.userId), message('metric-0002'));
    assert.equal(w.metrics.total('MessagesSent'), 2);
  });

  test('concurrent retries of one message count it once', async () => {
    const w = fakeWorld();
    const [ada, bob] = await Promise.all([addUser(w), addUser(w)]);
    const sends = await Promise.all([1, 2, 3].map(() => sendMessage(sendDeps(w), ada.userId, bob.userId, message('race-00001'))));
    assert.equal(sends.filter((s) => !s.duplicate).length, 1);
    assert.equal(w.metrics.total('MessagesSent'), 1);
  });

  test('a refused send counts nothing: to oneself, bad ciphertext, a user one blocks, a conversation one is not in', async () => {
    const w = fakeWorld();
    const [ada, bob, cy] = await Promise.all([addUser(w), addUser(w), addUser(w)]);
    await rejectsWith(sendMessage(sendDeps(w), ada.userId, ada.userId, message('self-00001')), 400, 'cannot_message_self');
    await rejectsWith(sendMessage(sendDeps(w), ada.userId, bob.userId, { ...message('bad-nonce1'), nonce: 'AAAA' }), 422, 'bad_nonce');
    await w.blocks.block(ada.userId, bob.userId);
    await rejectsWith(sendMessage(sendDeps(w), ada.userId, bob.userId, message('blocked-01')), 403, 'user_blocked');
    await rejectsWith(
      sendToConversation(sendDeps(w), cy.userId, directConversationId(ada.userId, bob.userId), message('intruder-1')),
      404,
      'conversation_not_found',
    );
    assert.deepEqual(counted(w), []);
  });

  test('a message stored for the sender only (the recipient blocks them) is a message sent: the sender cannot tell', async () => {
    const w = fakeWorld();
    const [ada, bob] = await Promise.all([addUser(w), addUser(w)]);
    await w.blocks.block(bob.userId, ada.userId);
    await sendMessage(sendDeps(w), ada.userId, bob.userId, message('hidden-001'));
    assert.equal(w.metrics.total('MessagesSent'), 1);
  });
});

describe('LoginFailures', () => {
  test('counts each refused login (wrong password, unknown account, suspended account) and no successful one', async () => {
    const w = fakeWorld();
    await addUser(w, { email: 'ada@example.test', password: PASSWORD });
    await addUser(w, { email: 'sus@example.test', password: PASSWORD, status: 'suspended' });
    const ok = await login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD }, IP);
    assert.equal(ok.kind, 'tokens');
    assert.deepEqual(counted(w), [], 'a successful login is no failure');
    await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test'), password: 'not-the-password' }, IP), 401, 'invalid_credentials');
    await rejectsWith(login(loginDeps(w), { identifier: email('nobody@example.test'), password: PASSWORD }, IP), 401, 'invalid_credentials');
    await rejectsWith(login(loginDeps(w), { identifier: email('sus@example.test'), password: PASSWORD }, IP), 403, 'account_suspended');
    assert.deepEqual(counted(w), ['LoginFailures', 'LoginFailures', 'LoginFailures']);
  });

  test('codes: a wrong code is a failure, the right one is not; the OTP step of a two-step login is not', async () => {
    const w = fakeWorld({ env: { OTP_REQUIRED_FOR: 'login' } });
    await addUser(w, { email: 'ada@example.test', password: PASSWORD });
    const step = await login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD }, IP);
    assert.equal(step.kind, 'otp_required');
    assert.deepEqual(counted(w), []);
    await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD, code: '000000' }, IP), 401, 'invalid_code');
    assert.equal(w.metrics.total('LoginFailures'), 1);
    const code = w.notifier.codeFor('ada@example.test');
    const done = await login(loginDeps(w), { identifier: email('ada@example.test'), password: PASSWORD, code }, IP);
    assert.equal(done.kind, 'tokens');
    assert.equal(w.metrics.total('LoginFailures'), 1);
  });

  test('passwordless: the right code signs in without a failure, a reused one is refused and counted', async () => {
    const w = fakeWorld();
    await addUser(w, { email: 'pia@example.test' });
    await requestOtp(deliveryDeps(w), 'login', email('pia@example.test'), IP);
    const code = w.notifier.codeFor('pia@example.test');
    assert.equal((await login(loginDeps(w), { identifier: email('pia@example.test'), code }, IP)).kind, 'tokens');
    assert.deepEqual(counted(w), []);
    await rejectsWith(login(loginDeps(w), { identifier: email('pia@example.test'), code }, IP), 401, 'invalid_code');
    assert.deepEqual(counted(w), ['LoginFailures']);
  });

  test('an attempt never judged is no failure: throttled (429) or without credentials (400)', async () => {
    const w = fakeWorld();
    await rejectsWith(login(loginDeps(w), { identifier: email('ada@example.test') }, IP), 400, 'credentials_required');
    assert.deepEqual(counted(w), []);
    const { limit } = w.config.rateLimits.loginIp;
    for (let i = 1; i < limit; i++)
      await rejectsWith(login(loginDeps(w), { identifier: email(`u${i}@example.test`), password: PASSWORD }, IP), 401, 'invalid_credentials');
    assert.equal(w.metrics.total('LoginFailures'), limit - 1, 'the 400 took an attempt of the window but judged nothing');
    await rejectsWith(login(loginDeps(w), { identifier: email('u9@example.test'), password: PASSWORD }, IP), 429, 'rate_limited');
    assert.equal(w.metrics.total('LoginFailures'), limit - 1);
  });
});

describe('ReportsFiled', () => {
  test('counts a report when it is stored; filing the same report again returns it and counts nothing', async () => {
    const w = fakeWorld();
    const [ada, bob] = await Promise.all([addUser(w), addUser(w)]);
    const first = await createReport(reportingDeps(w), ada.userId, { targetUserId: bob.userId, reason: 'spam' });
    assert.equal(first.created, true);
    assert.deepEqual(counted(w), ['ReportsFiled']);
    const again = await createReport(reportingDeps(w), ada.userId, { targetUserId: bob.userId, reason: 'spam' });
    assert.deepEqual([again.created, again.report.reportId], [false, first.report.reportId]);
    assert.deepEqual(counted(w), ['ReportsFiled']);
  });

  test('a refused report counts nothing: oneself, an unknown user, a message of another conversation', async () => {
    const w = fakeWorld();
    const [ada, bob, cy] = await Promise.all([addUser(w), addUser(w), addUser(w)]);
    const theirs = await sendMessage(sendDeps(w), bob.userId, cy.userId, message('theirs-001'));
    const before = w.metrics.counted.length;
    await rejectsWith(createReport(reportingDeps(w), ada.userId, { targetUserId: ada.userId, reason: 'spam' }), 400, 'cannot_report_self');
    await rejectsWith(
      createReport(reportingDeps(w), ada.userId, { targetUserId: '00000000-0000-4000-8000-000000000000', reason: 'spam' }),
      404,
      'user_not_found',
    );
    await rejectsWith(
      createReport(reportingDeps(w), ada.userId, { targetUserId: bob.userId, reason: 'spam', messageIds: [theirs.ack.messageId] }),
      400,
      'foreign_message',
    );
    assert.equal(w.metrics.counted.length, before);
  });
});
