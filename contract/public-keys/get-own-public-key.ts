// GET /api/users/public-key
import { httpContract } from '../route.ts';
import { publicKeySet } from './schemas.ts';

export const getOwnPublicKey = httpContract({
  id: 'GetOwnPublicKey',
  method: 'GET',
  path: '/api/users/public-key',
  access: 'user',
  summary: "The caller's current public keys, version and fingerprint",
  input: {},
  output: { 200: publicKeySet },
});
