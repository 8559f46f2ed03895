// Examples of the users routes for the API documents (contract/examples.ts says why they live apart).
import { ada } from '../auth/examples.ts';
import { errorExample, httpExamples, ids, validationFailed } from '../examples.ts';
import { deleteMe } from './delete-me.ts';
import { getMe } from './get-me.ts';
import { searchUsers } from './search-users.ts';
import { updateMe } from './update-me.ts';

const proofNeeded = errorExample(400, 'Turning discovery on without a proof', 'validation_failed', 'Confirm this with a fresh proof', [
  { path: 'body.password', message: 'Confirm with your password, or with a "reauth" code if the account has none', code: 'required' },
]);

export const usersExamples = [
  httpExamples(getMe, { responses: { 200: { user: ada } } }),
  httpExamples(updateMe, {
    bodies: { rename: { displayName: 'Ada King' }, discoverable: { discoverable: true, password: 'correct horse battery staple' } },
    responses: { 200: { user: { ...ada, displayName: 'Ada King' } } },
    errors: { proofNeeded },
  }),
  httpExamples(deleteMe, {
    bodies: { password: { password: 'correct horse battery staple' }, passwordless: { code: '493027' } },
    responses: { 204: null },
    errors: { wrongPassword: errorExample(403, 'The password is wrong', 'invalid_password', 'The password is wrong') },
  }),
  httpExamples(searchUsers, {
    query: { q: 'ben' },
    responses: { 200: { users: [{ userId: ids.ben, displayName: 'Ben Okafor' }] } },
    errors: { tooShort: validationFailed('query', 'query.q', 'Too small: expected string to have >=2 characters', 'too_small') },
  }),
];
