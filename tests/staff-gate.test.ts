// Staff routes use staffGate (functions/wiring/auth.ts), which leaves the per-user limiter out of their
// bundles; that is only right while none of them has a per-user limit, and every route that has one
// still goes through the gate that enforces it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { allRoutes } from '../lib/routes.ts';

const source = (handler: string) => readFileSync(join(import.meta.dirname, '..', handler), 'utf8');

test('staffGate only on staff routes without a per-user limit; every route with one uses a limiting gate', () => {
  const staff = allRoutes.filter((r) => /\bstaffGate\b/.test(source(r.handler)));
  assert.ok(staff.length > 0);
  for (const r of staff) {
    assert.ok(r.access === 'admin' || r.access === 'moderator', `${r.handler} is a ${r.access} route`);
    assert.equal(r.userLimit, undefined, `${r.handler} has a per-user limit`);
  }
  for (const r of allRoutes.filter((r) => r.userLimit)) {
    assert.match(source(r.handler), r.kind === 'ws' ? /\bsocketGate\b/ : /\bhttpGate\b/, `${r.handler} enforces ${r.userLimit}`);
  }
});
