// The error codes the server can send, read from functions/ with TypeScript's parser: the code
// argument of every `new BadRequest(...)`, `new NotFound(...)`, ... (or the class's default code), and
// `code: '...'` in error frames and mapped errors (an object literal with `code` and `message`, not a
// field issue, which has a `path`). `node client/scripts/error-codes.ts --write` regenerates
// client/src/error-codes.ts; tests/client-errors.test.ts fails when the two differ.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as prettier from 'prettier';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The classes of functions/core/errors.ts: which argument is the code, and the code when it is left out. */
const constructors: Record<string, { arg: number; fallback?: string }> = {
  DomainError: { arg: 1 },
  BadRequest: { arg: 1, fallback: 'bad_request' },
  ValidationFailed: { arg: -1, fallback: 'validation_failed' },
  Unauthorized: { arg: 1, fallback: 'unauthorized' },
  Forbidden: { arg: 1, fallback: 'forbidden' },
  NotFound: { arg: 1, fallback: 'not_found' },
  Conflict: { arg: 1, fallback: 'conflict' },
  PayloadTooLarge: { arg: -1, fallback: 'payload_too_large' },
  UnsupportedMediaType: { arg: -1, fallback: 'unsupported_media_type' },
  Unprocessable: { arg: 1, fallback: 'unprocessable' },
  RateLimited: { arg: -1, fallback: 'rate_limited' },
  ServiceUnavailable: { arg: 1, fallback: 'unavailable' },
};

export interface ScanResult {
  codes: string[];
  /** Code arguments that are not string literals (or conditionals of them): file:line and the text. */
  unresolved: string[];
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

/**
 * Codes built from something the parser cannot follow, resolved by hand: the expression's text → the
 * codes it can produce. A new unresolved expression fails tests/client-errors.test.ts until it is listed here.
 */
export const resolvedByHand: Record<string, readonly string[]> = {
  // users.update(..., { unlessStatus }): moderation.ts passes only 'banned'
  '`already_${opts.unlessStatus}`': ['already_banned'],
  // mapError() passes a DomainError's code on: the constructors are scanned where they are thrown
  'code: known.code': [],
};

/** `const name = '…'` declared anywhere in the file: what an identifier used as a code stands for. */
function constants(source: ts.SourceFile): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isStringLiteral(node.initializer)) {
      const list = node.parent;
      if (ts.isVariableDeclarationList(list) && list.flags & ts.NodeFlags.Const) found.set(node.name.text, node.initializer.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The string literals an expression may evaluate to (literals, consts, both arms of a conditional); undefined otherwise. */
function literals(node: ts.Expression, consts: Map<string, string> = new Map()): string[] | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isIdentifier(node) && consts.has(node.text)) return [consts.get(node.text)!];
  if (ts.isParenthesizedExpression(node)) return literals(node.expression, consts);
  if (ts.isConditionalExpression(node)) {
    const a = literals(node.whenTrue, consts);
    const b = literals(node.whenFalse, consts);
    return a && b ? [...a, ...b] : undefined;
  }
  if (ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) return literals(node.expression, consts);
  return undefined;
}

export function scanServerErrorCodes(dir = join(root, 'functions')): ScanResult {
  const codes = new Set<string>();
  const unresolved: string[] = [];
  for (const file of files(dir)) {
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const consts = constants(source);
    const resolve = (n: ts.Expression, label: ts.Node) => {
      const found = literals(n, consts) ?? resolvedByHand[label.getText()];
      if (found) found.forEach((c) => codes.add(c));
      else unresolved.push(`${where(label)} ${label.getText()}`);
    };
    const where = (n: ts.Node) => `${relative(root, file)}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && Object.hasOwn(constructors, node.expression.text)) {
        const { arg, fallback } = constructors[node.expression.text]!;
        const given = arg >= 0 ? node.arguments?.[arg] : undefined;
        if (!given || (ts.isIdentifier(given) && given.text === 'undefined')) {
          if (fallback) codes.add(fallback);
        } else resolve(given, given);
      }
      // { type: 'error', code: '…', message } frames and mapped errors { status, code, message }; not field issues { path, code }
      if (ts.isObjectLiteralExpression(node)) {
        const props = new Map(
          node.properties.flatMap((p) =>
            ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? [[p.name.text, p] as const] : [],
          ),
        );
        const code = props.get('code');
        if (code && props.has('message') && !props.has('path')) resolve(code.initializer, code);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { codes: [...codes].sort(), unresolved };
}

/** The generated module's text. */
export function errorCodesModule(codes: readonly string[]): string {
  return `// Generated by client/scripts/error-codes.ts from functions/ (every error code the server sends); do not edit.
// tests/client-errors.test.ts fails when the server gains a code this list lacks: run
// \`node client/scripts/error-codes.ts --write\`.

/** Every \`error.code\` the server sends (HTTP error bodies and WebSocket error frames). */
export const API_ERROR_CODES = [
${codes.map((c) => `  '${c}',`).join('\n')}
] as const;

/** The code of a server error: ApiError.code (plus the SDK's own codes, see SdkErrorCode). */
export type ServerErrorCode = (typeof API_ERROR_CODES)[number];
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { codes, unresolved } = scanServerErrorCodes();
  if (unresolved.length) console.error(`not string literals (handled by hand?):\n  ${unresolved.join('\n  ')}`);
  if (process.argv.includes('--write')) {
    const file = join(root, 'client/src/error-codes.ts');
    writeFileSync(file, await formatted(errorCodesModule(codes), file));
    console.log(`client/src/error-codes.ts: ${codes.length} codes`);
  } else console.log(codes.join('\n'));
}

/** `text` as prettier formats it with the project's settings (the committed file is formatted). */
export async function formatted(text: string, file: string): Promise<string> {
  return prettier.format(text, { ...(await prettier.resolveConfig(file)), filepath: file });
}
