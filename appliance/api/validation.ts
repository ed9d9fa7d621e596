// API-2 input validation with the routes' TypeBox schemas: bodies are checked as sent (a string
// is not a number, unknown fields are refused where a schema closes them) after their defaults
// are filled in; query strings and path parameters are converted from text first. Input nested
// deeper than any schema allows is refused first (MAX_NESTING).
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import type { FastifySchemaCompiler } from 'fastify';

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

const tooDeep = () => [{ instancePath: '', message: `arrays and objects are nested more than ${MAX_NESTING} levels deep; at most ${MAX_NESTING} levels are accepted` }];

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  return (input: unknown) => {
    if (nestedDeeperThan(input, MAX_NESTING)) return { error: tooDeep() as never }; // answered 400 with the route's code
    const copy = structuredClone(input);
    const value = Value.Default(schema, httpPart === 'body' ? copy : Value.Convert(schema, copy));
    if (check.Check(value)) return { value };
    const errors = [...check.Errors(value)].slice(0, 20).map((e) => ({ instancePath: e.path, message: e.message }));
    return { error: errors as never };
  };
};

/** `path: message` lines for the error's detail, one per problem. */
export function validationProblems(error: { validation?: { instancePath?: string; message?: string }[]; validationContext?: string }): string[] {
  return (error.validation ?? []).map((e) => `${error.validationContext ?? ''}${e.instancePath || ''}: ${e.message ?? 'invalid'}`);
}
