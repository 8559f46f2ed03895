// POST /api/auth/logout-all
import { httpContract } from '../route.ts';

export const logoutAll = httpContract({
  id: 'LogoutAll',
  method: 'POST',
  path: '/api/auth/logout-all',
  access: 'user',
  summary: 'Ends every session of the account',
  input: {},
  output: { 204: null },
});
