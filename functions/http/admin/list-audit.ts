// GET /api/admin/audit: the append-only audit log, newest first (admins only).
import { adminAudit as contract } from '#contract/admin/list-audit.ts';
import { auditLog } from '#core/moderation.ts';
import { httpHandler } from '#middleware/http-handler.ts';
import { staffGate } from '#wiring/auth.ts';
import { moderation } from '#wiring/moderation.ts';

export const handler = httpHandler(contract, staffGate).handle(async ({ query }) => ({ body: await auditLog(moderation(), query.limit ?? 50, query.cursor) }));
