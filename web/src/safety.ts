// The safety number, recomputed in the browser from the identity key the directory served, so a
// server that lied about the fingerprint it shows would be caught here. Same derivation as the server
// (functions/core/public-keys.ts, after libsignal's numeric fingerprint): SHA-512 over a 2-byte
// version 0, the Ed25519 key and the user id, 5200 more rounds over (hash ‖ key), then six 5-byte
// big-endian groups of the first 30 bytes, each mod 100000.
import nacl from 'tweetnacl';

const ITERATIONS = 5200;

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function safetyNumber(userId: string, identityKey: Uint8Array): string {
  let hash = nacl.hash(concat(new Uint8Array(2), identityKey, new TextEncoder().encode(userId)));
  for (let i = 0; i < ITERATIONS; i++) hash = nacl.hash(concat(hash, identityKey));
  const groups: string[] = [];
  for (let i = 0; i < 30; i += 5) {
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + hash[i + j]!;
    groups.push(String(n % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}
