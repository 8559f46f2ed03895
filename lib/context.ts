// Reading CDK context, shared by bin/nexchat.ts and the constructs that own their settings: every
// reader throws, naming the key and what it expects, so a typo fails synth rather than a deploy.
import type { Node } from 'constructs';

/** A bare address: SES's ses:FromAddress condition compares the address, never a display name. */
export const EMAIL_PATTERN =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** A string matching `pattern`, or undefined when the key is absent. */
export function readOptionalString(node: Node, key: string, pattern: RegExp, expected: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new Error(`context "${key}" must be ${expected}; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** true/false, as a boolean (cdk.json) or a string (-c key=true); undefined when absent. */
export function readOptionalFlag(node: Node, key: string): boolean | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return undefined;
  if (value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`context "${key}" must be true or false; got ${JSON.stringify(value)}`);
}

/** true/false; absent means false. */
export function readFlag(node: Node, key: string): boolean {
  return readOptionalFlag(node, key) ?? false;
}

/** A whole number from `min` to `max` (a number, or a string of digits from -c), or undefined when the key is absent. */
export function readOptionalWholeNumber(node: Node, key: string, min: number, max: number): number | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new Error(`context "${key}" must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  return n;
}
