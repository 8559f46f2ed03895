// fast-check arbitraries derived from a route's JSON Schema (z.toJSONSchema of its contract, io:
// 'input'): values that fit it, and values that break it on purpose: wrong types, one past each
// boundary, hostile unicode, missing and extra keys (prototype keys included), deep nesting. Bodies
// are built as JSON text by our own serializer, so an own "__proto__" key and raw JSON fragments
// (1e400, 5000 levels of nesting) reach the server exactly as written.
import fc from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
}

/** A JSON fragment written verbatim into the request (numbers JSON.stringify cannot write, deep nesting). */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** JSON text of a value: own enumerable keys in order (so an own "__proto__" survives), RawJson verbatim. */
export function toJson(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}:${toJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** A copy of `obj` with `key` as an own enumerable property, even "__proto__". */
export function withKey(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) Object.defineProperty(out, k, { value: obj[k], enumerable: true, writable: true, configurable: true });
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

export function withoutKey(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) if (k !== key) Object.defineProperty(out, k, { value: obj[k], enumerable: true, writable: true, configurable: true });
  return out;
}

/** Characters that break naive string handling: NUL, combining marks, bidi controls, astral, lone surrogates, separators. */
export const hostileChars = [
  '\u0000',
  '\u0301',
  '\u202E',
  '\u200F',
  '\u200B',
  '\uFEFF',
  '\u2028',
  '\u00A0',
  '😀',
  '𝕏',
  '\uD800',
  '\uDFFF',
  '\n',
  '\r\n',
  '\t',
  ' ',
  '"',
  '\\',
  '/',
  '%',
  '%00',
  '＜',
  '١',
  '０',
  'İ',
  'ß',
  'а', // Cyrillic a
  '<script>',
  '${x}',
  "' OR '1'='1",
] as const;

export const prototypeKeys = ['__proto__', 'constructor', 'prototype'] as const;
const trickyKeys = [...prototypeKeys, 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'role', 'isAdmin', 'userId', 'pk', 'sk', ''];

const hostileChar = fc.constantFrom(...hostileChars);
/** Any text, astral planes and lone surrogates included. */
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), hostileChar);

/** A value nested `depth` levels deep, as raw JSON (a serializer or validator that recurses may overflow on it). */
export const deepNesting = fc
  .tuple(fc.integer({ min: 50, max: 5000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => new RawJson(`${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`));

const wrongTypeValues = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, -1e308, '', [], {}, [null], { '': null }),
  fc.constantFrom('1e400', '-1e400', '1E+9999', '-0', '123456789012345678901234567890').map((t) => new RawJson(t)),
  fc.integer(),
  fc.double(),
  anyText,
  fc.array(anyText, { maxLength: 3 }),
  fc.dictionary(anyText, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  deepNesting,
);

function typesOf(s: JsonSchema): string[] {
  if (s.const !== undefined) return [typeof s.const === 'string' ? 'string' : typeof s.const];
  if (s.enum) return ['string'];
  if (Array.isArray(s.type)) return s.type;
  return s.type ? [s.type] : [];
}

function jsonType(v: unknown): string {
  if (v instanceof RawJson) return 'raw';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** A value of some other JSON type than the schema allows. */
export function wrongType(s: JsonSchema): fc.Arbitrary<unknown> {
  const allowed = typesOf(s);
  return wrongTypeValues.filter((v) => {
    const t = jsonType(v);
    if (t === 'raw') return true;
    if (t === 'integer' && allowed.includes('number')) return false;
    return !allowed.includes(t);
  });
}

// ---- values that fit ------------------------------------------------------------------------------

const matchers = new Map<string, fc.Arbitrary<string>>();
/** fc.stringMatching, built once per pattern (building one costs tens of milliseconds). */
function matching(re: RegExp): fc.Arbitrary<string> {
  let arb = matchers.get(`${re.flags}/${re.source}`);
  if (!arb) matchers.set(`${re.flags}/${re.source}`, (arb = fc.stringMatching(re)));
  return arb;
}

/** A JSON Schema pattern as a RegExp: JSON Schema carries no flags, and zod writes unicode patterns (\\p{...}) that need `u`. */
export function patternOf(source: string): RegExp {
  try {
    return new RegExp(source, 'u');
  } catch {
    return new RegExp(source);
  }
}

/** A value of the schema (best effort: the server's own schema is the judge of every case anyway). */
export function validOf(s: JsonSchema): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const options = s.oneOf ?? s.anyOf;
  if (options) return fc.oneof(...options.map(validOf));
  const type = typesOf(s)[0];
  switch (type) {
    case 'string': {
      const min = s.minLength ?? 0;
      const max = Math.min(s.maxLength ?? 40, Math.max(min, 40));
      if (s.pattern) {
        const re = patternOf(s.pattern);
        const fits = (v: string) => v.length >= min && v.length <= (s.maxLength ?? Infinity);
        try {
          return matching(re).filter(fits);
        } catch {
          // a pattern fast-check cannot generate from (unicode property escapes): text that happens to fit
          return fc
            .oneof(
              fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.max(min, Math.min(s.maxLength ?? 20, 20)) }),
              fc.string({ minLength: min, maxLength: Math.max(min, 20) }),
            )
            .filter((v) => fits(v) && re.test(v));
        }
      }
      if (s.format === 'email') return fc.emailAddress().filter((v) => v.length <= (s.maxLength ?? 254));
      return fc.string({ minLength: Math.max(min, 1) + 1, maxLength: Math.max(max, min + 2) }).map((v) => v.slice(0, s.maxLength ?? v.length));
    }
    case 'integer':
    case 'number': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000);
      const max = Math.min(s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1000), min + 10_000);
      return fc.integer({ min, max });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(s.items ? validOf(s.items) : fc.jsonValue({ maxDepth: 1 }), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 3, Math.max(s.minItems ?? 0, 3)),
      });
    case 'object': {
      const props = s.properties ?? {};
      const keys = Object.keys(props);
      if (!keys.length) return fc.constant({});
      return fc.record(Object.fromEntries(keys.map((k) => [k, validOf(props[k]!)])), { requiredKeys: s.required ?? [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---- values that break it -------------------------------------------------------------------------

function insertAt(base: string, at: number, piece: string): string {
  const i = base.length ? at % (base.length + 1) : 0;
  return base.slice(0, i) + piece + base.slice(i);
}

/** Strings one past each length boundary, in several alphabets (astral characters count two UTF-16 units). */
function lengthFaults(s: JsonSchema): fc.Arbitrary<string>[] {
  const out: fc.Arbitrary<string>[] = [];
  const unit = fc.constantFrom('a', 'A', '0', 'é', 'e\u0301', '😀', ' ', '\u0000', '\u202E');
  const ofLength = (n: number) => unit.map((u) => (u.repeat(Math.ceil(n / u.length) + 1) as string).slice(0, n));
  if (s.minLength !== undefined && s.minLength > 0) {
    out.push(ofLength(s.minLength - 1));
    // trimmed fields: enough whitespace to reach the minimum, nothing left after trimming
    out.push(fc.constantFrom(' ', '\t', '\n', '\u00A0').map((w) => w.repeat(s.minLength! + 1)));
  }
  if (s.maxLength !== undefined) {
    out.push(ofLength(s.maxLength + 1));
    out.push(fc.integer({ min: 2, max: 64 }).chain((extra) => ofLength(s.maxLength! + extra)));
    if (s.pattern) out.push(fc.constant('A'.repeat(Math.ceil((s.maxLength + 1) / 4) * 4)));
  }
  return out;
}

/** Strings that break the schema's string rules (pattern, enum, const, format, length). */
export function stringFaults(s: JsonSchema): fc.Arbitrary<string> {
  const faults: fc.Arbitrary<string>[] = [...lengthFaults(s)];
  const choices = s.enum ?? (s.const !== undefined ? [s.const] : undefined);
  if (choices) {
    const base = fc.constantFrom(...choices.map(String));
    faults.push(
      fc
        .tuple(
          base,
          fc.constantFrom<(v: string) => string>(
            (v) => v.toUpperCase(),
            (v) => `${v} `,
            (v) => ` ${v}`,
            (v) => `${v}\u0000`,
            (v) => v.replace(/a/g, 'а'),
          ),
        )
        .map(([v, f]) => f(v)),
      fc.tuple(base, fc.nat(), hostileChar).map(([v, at, c]) => insertAt(v, at, c)),
      anyText,
    );
  }
  if (s.pattern || s.format) {
    const valid = validOf(s) as fc.Arbitrary<string>;
    faults.push(
      fc.tuple(valid, fc.nat(), hostileChar).map(([v, at, c]) => insertAt(v, at, c)),
      fc.tuple(valid, fc.nat()).map(([v, at]) => (v.length ? v.slice(0, at % v.length) + v.slice((at % v.length) + 1) : 'x')),
      valid.map((v) => (v === v.toUpperCase() ? v.toLowerCase() : v.toUpperCase())),
      valid.map((v) => `${v}\n`),
      anyText,
    );
  }
  if (!faults.length) faults.push(anyText);
  return fc.oneof(...faults);
}

function numberFaults(s: JsonSchema): fc.Arbitrary<unknown> {
  const faults: fc.Arbitrary<unknown>[] = [
    fc.constantFrom(1.5, -0.5, 2 ** 53 + 2, 1e308, -1e308),
    fc.constantFrom('1e400', '-1e400', '1.0e-400').map((t) => new RawJson(t)),
  ];
  if (s.minimum !== undefined) faults.push(fc.constant(s.minimum - 1), fc.integer({ min: -1e9, max: s.minimum - 1 }));
  if (s.exclusiveMinimum !== undefined) faults.push(fc.constant(s.exclusiveMinimum), fc.integer({ min: -1e9, max: s.exclusiveMinimum }));
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER)
    faults.push(fc.constant(s.maximum + 1), fc.integer({ min: s.maximum + 1, max: s.maximum + 1e9 }));
  if (s.type === 'integer') faults.push(fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }));
  return fc.oneof(...faults);
}

/** A value the schema rejects (the server's schema is the judge: the few that slip through are filtered out). */
export function invalidOf(s: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const options = s.oneOf ?? s.anyOf;
  if (options) return fc.oneof(wrongType({ type: 'object' }), ...options.map((o) => invalidOf(o, depth)));
  const faults: fc.Arbitrary<unknown>[] = [wrongType(s)];
  const type = typesOf(s)[0];
  if (type === 'string') faults.push(stringFaults(s));
  if (type === 'integer' || type === 'number') faults.push(numberFaults(s));
  if (type === 'array') {
    const item = s.items ?? {};
    if (s.maxItems !== undefined) faults.push(fc.array(validOf(item), { minLength: s.maxItems + 1, maxLength: s.maxItems + 3 }));
    if (s.minItems) faults.push(fc.array(validOf(item), { minLength: s.minItems - 1, maxLength: s.minItems - 1 }));
    if (depth < 3)
      faults.push(
        fc
          .tuple(fc.array(validOf(item), { maxLength: 3 }), invalidOf(item, depth + 1), fc.nat())
          .map(([items, bad, at]) => [...items.slice(0, at % (items.length + 1)), bad, ...items.slice(at % (items.length + 1))]),
      );
  }
  if (type === 'object') faults.push(...objectFaults(s, depth));
  return fc.oneof({ arbitrary: fc.oneof(...faults), weight: 9 }, { arbitrary: deepNesting, weight: 1 });
}

/** An object of the schema with one thing wrong: a required key missing, a key too many, one property broken. */
export function objectFaults(s: JsonSchema, depth = 0): fc.Arbitrary<Record<string, unknown>>[] {
  const props = s.properties ?? {};
  const valid = validOf(s) as fc.Arbitrary<Record<string, unknown>>;
  const faults: fc.Arbitrary<Record<string, unknown>>[] = [];
  const required = s.required ?? [];
  if (required.length) faults.push(fc.tuple(valid, fc.constantFrom(...required)).map(([v, k]) => withoutKey(v, k)));
  if (s.additionalProperties !== true && typeof s.additionalProperties !== 'object') {
    const extraKey = fc.oneof(fc.constantFrom(...trickyKeys), anyText).filter((k) => !(k in props) || prototypeKeys.includes(k as never));
    const extraValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ polluted: true, role: 'admin' }), deepNesting);
    faults.push(fc.tuple(valid, extraKey, extraValue).map(([v, k, x]) => withKey(v, k, x)));
  }
  const keys = Object.keys(props);
  if (keys.length && depth < 3) {
    faults.push(fc.oneof(...keys.map((k) => fc.tuple(valid, invalidOf(props[k]!, depth + 1)).map(([v, bad]) => withKey(withoutKey(v, k), k, bad)))));
  }
  if (!faults.length) faults.push(fc.tuple(valid, fc.constantFrom(...prototypeKeys)).map(([v, k]) => withKey(v, k, { polluted: true })));
  return faults;
}

// ---- query strings and path parameters (strings only) --------------------------------------------

/** What a query or path value of this schema looks like on the wire. */
export function validText(s: JsonSchema): fc.Arbitrary<string> {
  return validOf(s).map((v) => String(v));
}

/** Query or path text the schema rejects: numbers that are not, out of range, hostile unicode, lengths. */
export function invalidText(s: JsonSchema): fc.Arbitrary<string> {
  const type = typesOf(s)[0];
  if (type === 'integer' || type === 'number') {
    const faults: fc.Arbitrary<string>[] = [
      fc.constantFrom('', ' ', 'abc', '1.5', '-1', '0', 'Infinity', 'NaN', '1e309', '１', '١', '1,2', '1 2', '--1', '0.0000001', '9'.repeat(400), 'null', '[]'),
      anyText,
    ];
    if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) faults.push(fc.integer({ min: s.maximum + 1, max: s.maximum + 1e6 }).map(String));
    if (s.minimum !== undefined) faults.push(fc.integer({ min: -1e6, max: s.minimum - 1 }).map(String));
    return fc.oneof(...faults);
  }
  return fc.oneof(stringFaults(s), anyText);
}
