// Device links (ephemeral table): DEVLINK#<linkId> / LINK, holding the SHA-256 of the link secret,
// the new device's public key and name, and after approval the relayed box and who approved it.
// Every read and write checks `linkExpiresAt` itself; `expiresAt` (TTL) only cleans up. A claim is
// one conditional delete, so of concurrent claims exactly one gets the link; the box leaves the
// table with it. Its own module, so no other route of the ephemeral table bundles it.
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, DeviceLinkRecord, DeviceLinksPort, LinkApproval } from '#core/ports.ts';
import { isConditionFailure, stripKeys, type Db } from './db.ts';

const linkKey = (linkId: string) => ({ pk: `DEVLINK#${linkId}`, sk: 'LINK' });
/** TTL a minute after the link's end: the record is deleted at claim, so this only cleans up the unclaimed. */
const ttlOf = (linkExpiresAt: number) => Math.ceil(linkExpiresAt / 1000) + 60;

export function deviceLinksTable(db: Db, clock: Clock): DeviceLinksPort {
  const { doc } = db;
  const table = () => db.table('ephemeral');
  return {
    async create(link) {
      await doc.send(
        new PutCommand({
          TableName: table(),
          Item: { ...linkKey(link.linkId), ...link, expiresAt: ttlOf(link.linkExpiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    async get(linkId) {
      const out = await doc.send(new GetCommand({ TableName: table(), Key: linkKey(linkId), ConsistentRead: true }));
      if (!out.Item || (out.Item.linkExpiresAt as number) <= clock.now()) return undefined;
      return stripKeys<DeviceLinkRecord>(out.Item, ['expiresAt']);
    },

    async approve(linkId, approval: LinkApproval) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table(),
            Key: linkKey(linkId),
            UpdateExpression: 'SET approval = :approval',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(approval) AND linkExpiresAt > :now',
            ExpressionAttributeValues: { ':approval': approval, ':now': clock.now() },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async claim(linkId, secretDigest) {
      try {
        const out = await doc.send(
          new DeleteCommand({
            TableName: table(),
            Key: linkKey(linkId),
            ConditionExpression: 'attribute_exists(approval) AND secretDigest = :digest AND linkExpiresAt > :now',
            ExpressionAttributeValues: { ':digest': secretDigest, ':now': clock.now() },
            ReturnValues: 'ALL_OLD',
          }),
        );
        return out.Attributes ? stripKeys<DeviceLinkRecord>(out.Attributes, ['expiresAt']) : undefined;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
  };
}
