// The close-code table (contract/realtime/close-codes.ts): codes are application codes (4000-4999),
// one per reason, reasons fit a close frame, the SDK's 4003 is the table's, and the error frame
// carries a close only in that range. The end-to-end behaviour is tests/close-codes.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from 'zod/mini';
import { closeCodes, closeFor, type CloseCode } from '#contract/realtime/close-codes.ts';
import { errorFrame } from '#contract/realtime/frames.ts';
import { deviceRevokedNotice } from '#core/devices.ts';
import { DEVICE_REVOKED_CLOSE_CODE } from '../../client/index.ts';

const entries = Object.entries(closeCodes as Record<string, CloseCode>);

describe('close codes', () => {
  test('every code is an application code (4000-4999), and no two reasons share one', () => {
    for (const [reason, { code }] of entries) assert.ok(Number.isInteger(code) && code >= 4000 && code <= 4999, `${reason}: ${code}`);
    const codes = entries.map(([, e]) => e.code);
    assert.equal(new Set(codes).size, codes.length, `duplicate codes: ${codes.join(', ')}`);
  });

  test('reasons are error codes (snake_case) that fit a close frame (123 bytes)', () => {
    for (const [reason] of entries) {
      assert.match(reason, /^[a-z]+(?:_[a-z]+)*$/);
      assert.ok(Buffer.byteLength(reason) <= 123);
    }
  });

  test('every entry says whether reconnecting helps; refusals name an HTTP error status', () => {
    for (const [reason, e] of entries) {
      assert.equal(typeof e.retry, 'boolean', reason);
      if (e.upgradeStatus !== undefined) assert.ok(e.upgradeStatus >= 400 && e.upgradeStatus <= 599, `${reason}: ${e.upgradeStatus}`);
    }
    const statuses = entries.flatMap(([, e]) => (e.upgradeStatus === undefined ? [] : [e.upgradeStatus]));
    assert.equal(new Set(statuses).size, statuses.length, 'one reason per refusal status');
    // ending a session, a device or an account cannot be undone by reconnecting
    for (const r of ['signed_out', 'token_revoked', 'device_revoked', 'account_suspended', 'account_deleted', 'account_banned'] as const) {
      assert.equal(closeCodes[r].retry, false, r);
    }
  });

  test("4003 device_revoked is the SDK's DEVICE_REVOKED_CLOSE_CODE, and the server's notice says so", () => {
    assert.equal(closeCodes.device_revoked.code, DEVICE_REVOKED_CLOSE_CODE);
    assert.deepEqual(deviceRevokedNotice.close, { code: 4003, reason: 'device_revoked' });
    assert.equal(deviceRevokedNotice.code, 'device_revoked');
    assert.ok(z.safeParse(errorFrame, deviceRevokedNotice).success, 'the notice is a valid error frame');
  });

  test('closeFor names the close of a known reason only', () => {
    assert.deepEqual(closeFor('account_banned'), { code: 4006, reason: 'account_banned' });
    for (const unknown of ['nope', '__proto__', 'constructor', 'toString']) assert.equal(closeFor(unknown), undefined, unknown);
  });

  test('the error frame takes a close only with an application code', () => {
    const frame = { type: 'error', code: 'signed_out', message: 'Signed out' };
    assert.ok(z.safeParse(errorFrame, frame).success, 'close is optional');
    assert.ok(z.safeParse(errorFrame, { ...frame, close: { code: 4001, reason: 'signed_out' } }).success);
    for (const code of [1000, 3999, 5000, 4001.5]) assert.ok(!z.safeParse(errorFrame, { ...frame, close: { code, reason: 'x' } }).success, String(code));
  });
});
