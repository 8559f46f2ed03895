// DELETE /api/users/me
import { httpContract } from '../route.ts';

export const deleteMe = httpContract({
  id: 'DeleteMe',
  method: 'DELETE',
  path: '/api/users/me',
  access: 'user',
  summary: 'Deletes the account; its sessions and public keys go with it',
  input: {},
  output: { 204: null },
});
