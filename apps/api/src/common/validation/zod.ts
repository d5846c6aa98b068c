import { PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { FieldError, Problem } from '../http/problem';

/** `variants[1].key` style paths, readable by people and by JSON tooling alike. */
export function formatPath(path: ReadonlyArray<PropertyKey>, root = ''): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(body)';
}

export function zodIssuesToFieldErrors(error: z.ZodError, root = ''): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        errors.push({ path: formatPath([...issue.path, key], root), message: 'unknown field' });
    } else {
      errors.push({ path: formatPath(issue.path, root), message: issue.message });
    }
  }
  return errors;
}

/** Parse or throw a 400 problem with field paths. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, root = ''): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw Problem.validation(zodIssuesToFieldErrors(result.error, root));
  return result.data;
}

/** Nest pipe: `@Body(new ZodPipe(schema))`. */
export class ZodPipe<T extends z.ZodType> implements PipeTransform<unknown, z.output<T>> {
  constructor(
    private readonly schema: T,
    private readonly root = '',
  ) {}
  transform(value: unknown): z.output<T> {
    if (value === undefined) throw Problem.badRequest('A JSON body is required.');
    return parseOrThrow(this.schema, value, this.root);
  }
}
