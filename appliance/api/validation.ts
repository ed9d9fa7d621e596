// API-2 input validation with the routes' TypeBox schemas: bodies are checked as sent (a string
// is not a number, unknown fields are refused where a schema closes them) after their defaults
// are filled in; query strings and path parameters are converted from text first.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import type { FastifySchemaCompiler } from 'fastify';

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  return (input: unknown) => {
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
