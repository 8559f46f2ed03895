// GET /api/users/me
import { me } from '../auth/schemas.ts';
import { httpContract } from '../route.ts';

export const getMe = httpContract({
  id: 'GetMe',
  method: 'GET',
  path: '/api/users/me',
  access: 'user',
  summary: 'The signed-in user',
  input: {},
  output: { 200: me },
});
