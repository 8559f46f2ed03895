// POST /api/auth/logout
import { httpContract } from '../route.ts';

export const logout = httpContract({
  id: 'Logout',
  method: 'POST',
  path: '/api/auth/logout',
  access: 'user',
  summary: 'Ends this session: its refresh and access tokens stop working at once',
  input: {},
  output: { 204: null },
});
