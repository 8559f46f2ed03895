// Composition root of the public-key directory: reads need the keys table only; publishing also
// tells partners (conversations, blocks, sockets).
import type { PublishDeps } from '#core/public-keys.ts';
import type { PublicKeysPort } from '#core/ports.ts';
import { events } from './auth.ts';
import { clock } from './platform.ts';
import { connections } from './realtime.ts';
import { blocks, partners, publicKeyStore } from './stores.ts';

export function keyReads(): { publicKeys: PublicKeysPort } {
  return { publicKeys: publicKeyStore() };
}

export function keyPublishing(): PublishDeps {
  return { publicKeys: publicKeyStore(), clock: clock(), conversations: partners(), blocks: blocks(), connections: connections(), events };
}
