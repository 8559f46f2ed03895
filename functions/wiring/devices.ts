// Composition root of devices and device linking: the device records (sessions table), the link
// requests (ephemeral table), and what each route adds (proofs, sockets, sign-in). One shape per
// route, so a bundle holds only what its route reaches.
import { deviceLinksTable } from '#adapters/dynamodb/device-links-table.ts';
import { deviceCreator, devicesTable } from '#adapters/dynamodb/devices-table.ts';
import type { ApprovalDeps, ClaimDeps, DeviceDeps, DeviceListDeps, LinkRequestDeps, RevocationDeps } from '#core/devices.ts';
import { loadDeviceConfig, type DeviceConfig } from '#core/config.ts';
import type { DeviceLinksPort, DevicesPort } from '#core/ports.ts';
import { limits, sessions } from './auth.ts';
import { identity } from './identity.ts';
import { clock, config, db } from './platform.ts';
import { connections } from './realtime.ts';

let devicesPort: DevicesPort | undefined;
let linksPort: DeviceLinksPort | undefined;
let settings: DeviceConfig | undefined;

/** Parsed once, on first use (only the device routes read these variables). */
function deviceConfig(): DeviceConfig {
  return (settings ??= loadDeviceConfig(process.env));
}

function devices(): DevicesPort {
  return (devicesPort ??= devicesTable(db(), clock()));
}

function links(): DeviceLinksPort {
  return (linksPort ??= deviceLinksTable(db(), clock()));
}

export function deviceList(): DeviceListDeps {
  return { clock: clock(), devices: devices() };
}

export function deviceManagement(): DeviceDeps {
  return { clock: clock(), devices: devices(), sessions: sessions() };
}

export function deviceRevocation(): RevocationDeps {
  return { ...identity(), devices: devices(), connections: connections() };
}

export function linkRequests(): LinkRequestDeps {
  return { config: config(), clock: clock(), limits: limits(), links: links(), devices: deviceConfig() };
}

export function linkViews(): { clock: ReturnType<typeof clock>; links: DeviceLinksPort } {
  return { clock: clock(), links: links() };
}

export function linkApproval(): ApprovalDeps {
  return { ...identity(), links: links(), devices: devices(), deviceConfig: deviceConfig() };
}

export function linkClaims(): ClaimDeps {
  return { ...identity(), devices: deviceCreator(db()), deviceList: devices(), deviceConfig: deviceConfig(), links: links(), connections: connections() };
}
