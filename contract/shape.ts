// Everything the server sends leaves through its schema: unknown keys are stripped, so an internal
// field can never leak; a value that does not match at all is a server bug, never sent as is.
import * as z from 'zod/mini';
import type { Schema } from './route.ts';

export class OutputMismatch extends Error {}

export function shapeOutput<S extends Schema>(schema: S, value: unknown, where: string): z.output<S> {
  const result = z.safeParse(schema, value);
  if (!result.success) {
    throw new OutputMismatch(`${where} does not match its contract: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.code}`).join('; ')}`);
  }
  return result.data;
}
