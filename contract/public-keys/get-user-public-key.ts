// GET /api/users/{userId}/public-key
import * as z from 'zod/mini';
import { userId } from '../common.ts';
import { httpContract } from '../route.ts';
import { publicKeySet } from './schemas.ts';

export const getUserPublicKey = httpContract({
  id: 'GetUserPublicKey',
  method: 'GET',
  path: '/api/users/{userId}/public-key',
  access: 'user',
  summary: "Another user's current public keys, version and fingerprint",
  input: { path: z.strictObject({ userId }) },
  output: { 200: publicKeySet },
});
