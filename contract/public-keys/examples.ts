// Examples of the public-key routes for the API documents (contract/examples.ts says why they live apart).
import { at, b64, errorExample, httpExamples, ids } from '../examples.ts';
import { getOwnPublicKey } from './get-own-public-key.ts';
import { getUserPublicKey } from './get-user-public-key.ts';
import { putPublicKey } from './put-public-key.ts';

export const adaKeys = { identityKey: b64(32, 1), publicKey: b64(32, 2), signature: b64(64, 3) };
const adaKeySet = { userId: ids.ada, ...adaKeys, version: 2, fingerprint: '05819 44730 12277 98413 60052 37716', updatedAt: at(5), identityChangedAt: at(0) };
const benKeySet = {
  userId: ids.ben,
  identityKey: b64(32, 4),
  publicKey: b64(32, 5),
  signature: b64(64, 6),
  version: 1,
  fingerprint: '71402 09935 46218 83307 15569 20841',
  updatedAt: at(2),
};

export const publicKeysExamples = [
  httpExamples(putPublicKey, {
    bodies: { upload: adaKeys },
    responses: { 200: adaKeySet },
    errors: {
      badSignature: errorExample(
        422,
        'The identity key did not sign this box key',
        'bad_signature',
        'The signature does not verify: the identity key must sign the box key',
      ),
    },
  }),
  httpExamples(getOwnPublicKey, {
    responses: { 200: adaKeySet },
    errors: { none: errorExample(404, 'No key published yet', 'key_not_found', 'You have not published keys yet') },
  }),
  httpExamples(getUserPublicKey, {
    path: { userId: ids.ben },
    responses: { 200: benKeySet },
    errors: { none: errorExample(404, 'Unknown user, or no key published', 'key_not_found', 'This user has no published keys') },
  }),
];
