// Reading the public-key directory, apart from publishing (public-keys.ts): read routes need neither
// signature checks nor the partners fan-out.
import { NotFound } from './errors.ts';
import type { KeyRecord, PublicKeysPort } from './ports.ts';

/** The current key set of a user, or a 404 that says whose keys are missing. */
export async function currentKeys(deps: { publicKeys: PublicKeysPort }, userId: string, own: boolean): Promise<KeyRecord> {
  const key = await deps.publicKeys.getCurrent(userId);
  if (!key) throw own ? new NotFound('You have not published keys yet', 'key_not_found') : new NotFound('This user has no published keys', 'key_not_found');
  return key;
}
