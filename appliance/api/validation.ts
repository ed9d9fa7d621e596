// API-2 input validation with the routes' TypeBox schemas: bodies are checked as sent (a string
// is not a number, unknown fields are refused where a schema closes them) after their defaults
// are filled in; query strings and path parameters are converted from text first. Input nested
// deeper than any schema allows is refused first (MAX_NESTING).
//
// Issue 16.11: each refusal is a structured problem — which field, which rule, what limit — so
// the admin UI can say it in the user's language with the field's name in words, and API clients
// still read one plain English sentence per problem (never a regular expression).
import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import type { FastifySchemaCompiler } from 'fastify';
import { SN_PATTERN } from '../contract/topics.ts';
import { USERNAME_PATTERN } from '../contract/users.ts';
import { BOX_ID_PATTERN, UPLINK_TARGET_ID_PATTERN } from '../contract/uplink.ts';

/**
 * Arrays and objects nested deeper than this are refused before anything walks the input
 * recursively: structuredClone overflowed the stack on 5,000 nested `[` (a 500 instead of a 400).
 * The deepest body the API takes nests 4 levels.
 */
export const MAX_NESTING = 32;

/** Whether `value` nests arrays or objects more than `max` levels deep; iterative, so safe at any depth. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [item, level] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (level > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, level + 1]);
    }
  }
  return false;
}

/** The rules a problem can name; the UI has a sentence for each in both languages. */
export type ProblemRule =
  | 'required' | 'type' | 'pattern' | 'format' | 'minLength' | 'maxLength' | 'minimum' | 'maximum'
  | 'exclusiveMinimum' | 'exclusiveMaximum' | 'multipleOf' | 'enum' | 'additional' | 'minItems' | 'maxItems'
  | 'uniqueItems' | 'minProperties' | 'nesting' | 'below' | 'above' | 'notAbove' | 'notZero' | 'finite' | 'invalid'
  // The cloud sync settings' own checks (sync/settings.ts, issue 17).
  | 'duplicate' | 'retype' | 'pemCertificate' | 'pemKey' | 'keyPair' | 'requires' | 'placeholders' | 'topicChars' | 'address';

/** One thing wrong with the input (the `detail` of a 400, API-2). */
export interface Problem {
  /** body, querystring, params or headers */
  in: string;
  /** JSON pointer into that part ('' = the whole of it), e.g. /calib/k */
  path: string;
  /** The same as a dotted name, e.g. calib.k — what the UI looks its label up by */
  field: string;
  rule: ProblemRule;
  /** The bound (a number), the expected type, the allowed values, or the other field of a rule */
  limit?: number | string | (string | number)[];
  /** rule 'pattern': the name of the allowed form (serial, username, time_hhmm, …), when known */
  form?: string;
  /** The field may also be left empty (null) */
  or_empty?: boolean;
  /** The problem in one English sentence, field first */
  message: string;
}

/**
 * Regular expressions say nothing to a person: the contract's patterns by name, with the English
 * words for what they allow (the UI has the same names in both languages, `form.*`).
 */
const PATTERN_FORMS: Record<string, { form: string; words: string }> = {
  [SN_PATTERN]: { form: 'serial', words: 'be 1 to 32 letters, digits or _ . : - starting with a letter or digit, and not "broadcast"' },
  [USERNAME_PATTERN]: { form: 'username', words: 'be 2 to 32 letters, digits or _ . @ - starting with a letter or digit' },
  '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$': { form: 'time_hhmm', words: 'be a 24-hour time HH:MM from 00:00 to 24:00' },
  '^$|^https?://[^\\s]+$': { form: 'http_url_or_empty', words: 'be an http:// or https:// address without spaces, or empty' },
  '^https?://': { form: 'http_url', words: 'start with http:// or https://' },
  '^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$': { form: 'bucket', words: 'be a bucket name of 3 to 63 lower-case letters, digits, . or -, or empty' },
  '^$|^[A-Za-z0-9._-][A-Za-z0-9._/-]*/$': { form: 'prefix', words: "be a key prefix of letters, digits, . _ - / ending in '/', or empty" },
  '^[A-Z_]{2,16}$': { form: 'alarm_type', words: 'be an alarm type in capitals, such as HIGH or FAULT' },
  [UPLINK_TARGET_ID_PATTERN]: { form: 'uplink_id', words: 'be 1 to 32 letters, digits, _ or -' },
  [`(${BOX_ID_PATTERN})|^$`]: { form: 'box_id', words: 'be 1 to 64 letters, digits, _ . or -, or empty' },
  '^(mqtt|mqtts|ws|wss)://': { form: 'mqtt_url', words: 'start with mqtt://, mqtts://, ws:// or wss://' },
  '^([0-9a-fA-F]{32})?$': { form: 'hex_key_16', words: 'be 32 hexadecimal digits (16 bytes), or empty' },
};

const TYPE_WORDS: Record<string, string> = {
  string: 'text', number: 'a number', integer: 'a whole number', boolean: 'true or false', array: 'a list', object: 'an object', null: 'empty',
};

const fieldOf = (path: string) => path.split('/').filter(Boolean).join('.');
const nameOf = (field: string) => field || 'the input';

/** What TypeBox said, as a rule with its limit (and English words); null for an error we do not know. */
function ruleOf(error: ValueError): Omit<Problem, 'in' | 'path' | 'field' | 'message'> & { words: string } {
  const s = error.schema as Record<string, unknown>;
  const n = (key: string) => s[key] as number;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty: return { rule: 'required', words: 'is required' };
    case ValueErrorType.ObjectAdditionalProperties: return { rule: 'additional', words: 'is not a known field here' };
    case ValueErrorType.ObjectMinProperties: return { rule: 'minProperties', limit: n('minProperties'), words: `needs at least ${n('minProperties')} field(s) to change` };
    case ValueErrorType.StringPattern: {
      const known = PATTERN_FORMS[String(s.pattern)];
      if (known) return { rule: 'pattern', form: known.form, words: `must ${known.words}` };
      return { rule: 'pattern', words: `does not have the allowed form${s.description ? ` (${String(s.description)})` : ''}` };
    }
    case ValueErrorType.StringFormat: return { rule: 'format', limit: String(s.format), words: `must be a valid ${String(s.format)}` };
    case ValueErrorType.StringMinLength:
      return n('minLength') === 1 ? { rule: 'required', words: 'must not be empty' } : { rule: 'minLength', limit: n('minLength'), words: `must be at least ${n('minLength')} characters` };
    case ValueErrorType.StringMaxLength: return { rule: 'maxLength', limit: n('maxLength'), words: `must be at most ${n('maxLength')} characters` };
    case ValueErrorType.NumberMinimum: case ValueErrorType.IntegerMinimum: return { rule: 'minimum', limit: n('minimum'), words: `must be ${n('minimum')} or more` };
    case ValueErrorType.NumberMaximum: case ValueErrorType.IntegerMaximum: return { rule: 'maximum', limit: n('maximum'), words: `must be ${n('maximum')} or less` };
    case ValueErrorType.NumberExclusiveMinimum: case ValueErrorType.IntegerExclusiveMinimum:
      return { rule: 'exclusiveMinimum', limit: n('exclusiveMinimum'), words: `must be more than ${n('exclusiveMinimum')}` };
    case ValueErrorType.NumberExclusiveMaximum: case ValueErrorType.IntegerExclusiveMaximum:
      return { rule: 'exclusiveMaximum', limit: n('exclusiveMaximum'), words: `must be less than ${n('exclusiveMaximum')}` };
    case ValueErrorType.NumberMultipleOf: case ValueErrorType.IntegerMultipleOf: return { rule: 'multipleOf', limit: n('multipleOf'), words: `must be a multiple of ${n('multipleOf')}` };
    case ValueErrorType.ArrayMinItems: return { rule: 'minItems', limit: n('minItems'), words: `must list at least ${n('minItems')} item(s)` };
    case ValueErrorType.ArrayMaxItems: return { rule: 'maxItems', limit: n('maxItems'), words: `must list at most ${n('maxItems')} item(s)` };
    case ValueErrorType.ArrayUniqueItems: return { rule: 'uniqueItems', words: 'must not list an item twice' };
    case ValueErrorType.Literal: return { rule: 'enum', limit: [s.const as string], words: `must be ${JSON.stringify(s.const)}` };
    case ValueErrorType.String: case ValueErrorType.Number: case ValueErrorType.Integer: case ValueErrorType.Boolean:
    case ValueErrorType.Array: case ValueErrorType.Object: case ValueErrorType.Null: {
      const type = String(s.type ?? 'value');
      return { rule: 'type', limit: type, words: `must be ${TYPE_WORDS[type] ?? type}` };
    }
    default: return { rule: 'invalid', words: `is not allowed (${error.message})` };
  }
}

/**
 * A union says only "Expected union value". Literals are a list of allowed values; "X or null" is
 * X's own rule with "or empty"; anything else is explained by its first alternative's first error.
 */
function unionRule(error: ValueError): ReturnType<typeof ruleOf> {
  const variants = ((error.schema as { anyOf?: TSchema[] }).anyOf ?? []) as (TSchema & { const?: unknown; type?: unknown })[];
  if (variants.length && variants.every((v) => 'const' in v)) {
    const values = variants.map((v) => v.const as string | number);
    return { rule: 'enum', limit: values, words: `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  const nullable = variants.some((v) => v.type === 'null');
  const main = variants.find((v) => v.type !== 'null');
  const first = main && [...Value.Errors(main, error.value)][0];
  if (!first) return { rule: 'invalid', words: 'is not allowed' };
  const inner = first.type === ValueErrorType.Union ? unionRule(first) : ruleOf(first);
  return nullable ? { ...inner, or_empty: true, words: `${inner.words}, or empty (null)` } : inner;
}

/** TypeBox's errors → problems: one per field (the first error there says the most), at most 20. */
export function schemaProblems(errors: Iterable<ValueError>, part: string): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const error of errors) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    const { words, ...rule } = error.type === ValueErrorType.Union ? unionRule(error) : ruleOf(error);
    const field = fieldOf(error.path);
    out.push({ in: part, path: error.path, field, ...rule, message: `${nameOf(field)}: ${words}` });
    if (out.length >= 20) break;
  }
  return out;
}

const tooDeep = (part: string): Problem[] => [{
  in: part, path: '', field: '', rule: 'nesting', limit: MAX_NESTING,
  message: `arrays and objects are nested more than ${MAX_NESTING} levels deep; at most ${MAX_NESTING} levels are accepted`,
}];

/**
 * TypeBox checks no string format until one is registered: without this every `format: 'date-time'`
 * of the contract refused all input ("Unknown format", e.g. a calibration's past `at`). RFC 3339: an
 * ISO 8601 instant with its offset, as the API answers it.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (value) => RFC3339.test(value) && !Number.isNaN(Date.parse(value)));

/** Fastify reads `instancePath` and `message` of each item; the rest travels on to the error handler. */
const forFastify = (problems: Problem[]) => problems.map((p) => ({ ...p, instancePath: p.path })) as never;

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  const part = httpPart ?? 'body';
  return (input: unknown) => {
    if (nestedDeeperThan(input, MAX_NESTING)) return { error: forFastify(tooDeep(part)) }; // answered 400 with the route's code
    const copy = structuredClone(input);
    const value = Value.Default(schema, httpPart === 'body' ? copy : Value.Convert(schema, copy));
    if (check.Check(value)) return { value };
    return { error: forFastify(schemaProblems(check.Errors(value), part)) };
  };
};

/** TypeBox's default English (a stage's own Value.Errors) → the rule and limit it names. */
const TYPEBOX_MESSAGES: [RegExp, (m: RegExpExecArray) => ReturnType<typeof ruleOf>][] = [
  [/^Expected required property$/, () => ({ rule: 'required', words: 'is required' })],
  [/^Unexpected property$/, () => ({ rule: 'additional', words: 'is not a known field here' })],
  [/^Expected string to match '(.*)'$/, (m) => {
    const known = PATTERN_FORMS[m[1]];
    return known ? { rule: 'pattern', form: known.form, words: `must ${known.words}` } : { rule: 'pattern', words: 'does not have the allowed form' };
  }],
  [/^Expected string length greater or equal to (\d+)$/, (m) => (m[1] === '1'
    ? { rule: 'required', words: 'must not be empty' } // as a schema refusal says it (ruleOf)
    : { rule: 'minLength', limit: Number(m[1]), words: `must be at least ${m[1]} characters` })],
  [/^Expected string length less or equal to (\d+)$/, (m) => ({ rule: 'maxLength', limit: Number(m[1]), words: `must be at most ${m[1]} characters` })],
  [/^Expected (?:number|integer) to be greater or equal to (-?[\d.e+]+)$/, (m) => ({ rule: 'minimum', limit: Number(m[1]), words: `must be ${m[1]} or more` })],
  [/^Expected (?:number|integer) to be less or equal to (-?[\d.e+]+)$/, (m) => ({ rule: 'maximum', limit: Number(m[1]), words: `must be ${m[1]} or less` })],
  [/^Expected (?:number|integer) to be greater than (-?[\d.e+]+)$/, (m) => ({ rule: 'exclusiveMinimum', limit: Number(m[1]), words: `must be more than ${m[1]}` })],
  [/^Expected (?:number|integer) to be less than (-?[\d.e+]+)$/, (m) => ({ rule: 'exclusiveMaximum', limit: Number(m[1]), words: `must be less than ${m[1]}` })],
  [/^Expected array length to be greater or equal to (\d+)$/, (m) => ({ rule: 'minItems', limit: Number(m[1]), words: `must list at least ${m[1]} item(s)` })],
  [/^Expected array length to be less or equal to (\d+)$/, (m) => ({ rule: 'maxItems', limit: Number(m[1]), words: `must list at most ${m[1]} item(s)` })],
  [/^Expected array elements to be unique$/, () => ({ rule: 'uniqueItems', words: 'must not list an item twice' })],
  [/^Expected (string|number|integer|boolean|array|object|null)$/, (m) => ({ rule: 'type', limit: m[1], words: `must be ${TYPE_WORDS[m[1]]}` })],
  [/^Expected union value$/, () => ({ rule: 'invalid', words: 'is not one of the allowed kinds of value' })],
  // The device rules between fields (devices/service.ts ruleProblems).
  [/^must be below (\w+)$/, (m) => ({ rule: 'below', limit: m[1], words: m[0] })],
  [/^must be above (\w+)$/, (m) => ({ rule: 'above', limit: m[1], words: m[0] })],
  [/^must not exceed (\w+)$/, (m) => ({ rule: 'notAbove', limit: m[1], words: m[0] })],
  [/^must not be 0$/, (m) => ({ rule: 'notZero', words: m[0] })],
  [/^must be a finite number$/, (m) => ({ rule: 'finite', words: m[0] })],
  // The cloud sync settings' own checks (sync/settings.ts UPLINK_PROBLEM_WORDS).
  [/^must be one of ((?:"[^"]*"(?:, )?)+)$/, (m) => {
    const values = [...m[1].matchAll(/"([^"]*)"/g)].map((v) => v[1]);
    return { rule: 'enum', limit: values, words: m[0] };
  }],
  [/^is used by another target$/, (m) => ({ rule: 'duplicate', words: m[0] })],
  [/^type it again: /, (m) => ({ rule: 'retype', words: m.input })],
  [/^must be a PEM certificate/, (m) => ({ rule: 'pemCertificate', words: m.input })],
  [/^must be a PEM private key/, (m) => ({ rule: 'pemKey', words: m.input })],
  [/^does not belong to the client certificate$/, (m) => ({ rule: 'keyPair', words: m[0] })],
  [/^is required with (\w+)$/, (m) => ({ rule: 'requires', limit: m[1], words: m[0] })],
  [/^may use only the placeholders (.+)$/, (m) => ({ rule: 'placeholders', limit: m[1].split(/,\s*/), words: m[0] })],
  [/^must not contain the MQTT wildcards/, (m) => ({ rule: 'topicChars', words: m.input })],
  [/^is not a valid address/, (m) => ({ rule: 'address', words: m.input })],
];

/** `/channels/email: host: words`, `calib.k: words`, `(root): words` → the path and the words. */
function splitProblemText(text: string): { path: string; words: string } {
  let rest = text;
  const segments: string[] = [];
  for (let m = /^([^\s:]+): /.exec(rest); m; m = /^([^\s:]+): /.exec(rest)) {
    if (m[1] !== '(root)' && m[1] !== '/') segments.push(...m[1].split(/[/.]/).filter(Boolean));
    rest = rest.slice(m[0].length);
  }
  return { path: segments.map((s) => `/${s}`).join(''), words: rest };
}

/**
 * A problem as a stage words it (the devices', channels' and storage settings' own checks list
 * `path: message` lines, with TypeBox's default English), made structured at the API's edge so
 * the UI can say it in the user's language and name the field in words; a sentence we do not
 * know keeps its words, with the field named.
 */
export function textProblem(text: string, part = 'body'): Problem {
  const { path, words } = splitProblemText(text);
  const field = fieldOf(path);
  for (const [pattern, rule] of TYPEBOX_MESSAGES) {
    const m = pattern.exec(words);
    if (m) {
      const { words: sentence, ...named } = rule(m);
      return { in: part, path, field, ...named, message: `${nameOf(field)}: ${sentence}` };
    }
  }
  return { in: part, path, field, rule: 'invalid', message: field ? `${field}: ${words}` : words };
}

/**
 * API-2 for a stage's AppError listing problems as text: the same structured detail and readable
 * message as a schema refusal (`title` is the error's catalog text, e.g. "invalid device settings").
 */
export function appErrorProblems(detail: unknown, title: string): { detail: Problem[]; message: string } | null {
  if (!Array.isArray(detail) || detail.length === 0 || !detail.every((d) => typeof d === 'string')) return null;
  const problems = (detail as string[]).map((d) => textProblem(d));
  return { detail: problems, message: `${title}: ${problemsSentence(problems)}` };
}

/** The problems of a refused request: fastify's validation, or an AppError detail listing `/path: words` lines. */
export function validationProblems(error: { validation?: unknown[]; validationContext?: string }): Problem[] {
  return (error.validation ?? []).map((item) => {
    const p = item as Partial<Problem> & { instancePath?: string; message?: string };
    if (p.rule) return { in: p.in ?? error.validationContext ?? 'body', path: p.path ?? '', field: p.field ?? '', rule: p.rule, ...pick(p), message: p.message ?? 'invalid' };
    // A validator other than ours (fastify's own), in the same shape.
    const path = p.instancePath ?? '';
    return { in: error.validationContext ?? 'body', path, field: fieldOf(path), rule: 'invalid' as const, message: `${nameOf(fieldOf(path))}: ${p.message ?? 'invalid'}` };
  });
}

function pick(p: Partial<Problem>): Partial<Problem> {
  const out: Partial<Problem> = {};
  if (p.limit !== undefined) out.limit = p.limit;
  if (p.form !== undefined) out.form = p.form;
  if (p.or_empty) out.or_empty = true;
  return out;
}

/** The English line of the 400's message, e.g. `invalid request: sn must be …; high_limit must be 0 or more`. */
export const problemsSentence = (problems: Problem[]) => problems.map((p) => p.message).join('; ');
