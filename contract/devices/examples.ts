// Examples of the device routes for the API documents (contract/examples.ts says why they live apart).
import { adaTokens } from '../auth/examples.ts';
import { at, b64, errorExample, httpExamples, ids, validationFailed } from '../examples.ts';
import { approveDeviceLink } from './approve-link.ts';
import { claimDeviceLink } from './claim-link.ts';
import { createDeviceLink } from './create-link.ts';
import { getDeviceLink } from './get-link.ts';
import { listDevices } from './list-devices.ts';
import { renameDevice } from './rename-device.ts';
import { revokeDevice } from './revoke-device.ts';

const link = { linkId: ids.link };
/** The new device's ephemeral X25519 key, shown as a QR code for the signed-in device to scan. */
const newDeviceKey = b64(32, 31);
const linkSecret = 'Qm9vdHN0cmFwLXNlY3JldC1mb3ItZGV2aWNlLWxpbms';
/** The account's secret keys boxed to the new device (the server relays it unopened). */
const relayed = { ciphertext: b64(112, 32), nonce: b64(24, 33), publicKey: b64(32, 34) };
const laptop = { deviceId: ids.adaLaptop, name: "Ada's laptop", createdAt: at(0), lastSeenAt: at(29), current: true };
const phone = { deviceId: ids.adaPhone, name: "Ada's phone", createdAt: at(31), lastSeenAt: at(31), current: false };
const noLink = errorExample(
  404,
  'Unknown, expired, used or (at claim) unapproved link, or a wrong secret: the same answer',
  'link_not_found',
  'No such link request, or it expired or was used',
);
const noDevice = errorExample(404, "Not one of the caller's devices", 'device_not_found', 'No such device');

export const devicesExamples = [
  httpExamples(listDevices, { responses: { 200: { devices: [laptop, phone] } } }),
  httpExamples(renameDevice, {
    path: { deviceId: ids.adaPhone },
    bodies: { rename: { name: "Ada's work phone" } },
    responses: { 200: { ...phone, name: "Ada's work phone" } },
    errors: { noDevice },
  }),
  httpExamples(revokeDevice, {
    path: { deviceId: ids.adaPhone },
    bodies: { password: { password: 'correct horse battery staple' }, passwordless: { code: '493027' } },
    responses: { 204: null },
    errors: { noDevice, wrongPassword: errorExample(403, 'The password is wrong', 'invalid_password', 'The password is wrong') },
  }),
  httpExamples(createDeviceLink, {
    bodies: { request: { publicKey: newDeviceKey, deviceName: "Ada's phone" } },
    responses: { 201: { ...link, linkSecret, expiresIn: 300 } },
    errors: { badKey: validationFailed('body', 'body.publicKey', 'A 32-byte key in standard base64') },
  }),
  httpExamples(getDeviceLink, {
    path: link,
    responses: { 200: { ...link, publicKey: newDeviceKey, deviceName: "Ada's phone", approved: false, expiresAt: at(35), expiresIn: 240 } },
    errors: { noLink },
  }),
  httpExamples(approveDeviceLink, {
    path: link,
    bodies: { password: { ...relayed, password: 'correct horse battery staple' }, passwordless: { ...relayed, code: '493027' } },
    responses: { 204: null },
    errors: { noLink },
  }),
  httpExamples(claimDeviceLink, {
    path: link,
    bodies: { claim: { linkSecret } },
    responses: { 200: { ...adaTokens, deviceId: ids.adaPhone, ...relayed } },
    errors: {
      noLink,
      deviceLimit: errorExample(
        409,
        'The account reached DEVICES_MAX since approving; the link stays claimable',
        'device_limit',
        'An account may have 10 signed-in devices: remove one before linking another',
      ),
    },
  }),
];
