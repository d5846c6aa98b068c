import type { FastifyInstance } from 'fastify';
import { FieldError, Problem } from './problem';
import { formatPath } from '../validation/zod';

/** Deepest nesting of arrays and objects a body may have (targeting rules, the deepest legitimate shape, stay ~34). */
export const MAX_JSON_DEPTH = 64;
/** More problems than this in one body are not listed one by one. */
const MAX_BODY_ISSUES = 20;

/**
 * Problems of a parsed JSON body that no handler should ever see: strings (values or keys) with NUL (U+0000), which
 * PostgreSQL text cannot store; lone UTF-16 surrogates (`"\ud800"`), which are not Unicode and cannot be encoded as
 * UTF-8; nesting deeper than MAX_JSON_DEPTH, which recursive code (schemas, hashing, JSON columns) would pay for or
 * overflow on. Each problem has the path of the value (`events[1].eventId`, `attributes["k\u0000"]`). The walk is
 * iterative (no recursion to overflow) and stops descending at the depth limit.
 */
export function hostileJsonProblems(body: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const stack: Array<{ value: unknown; path: Array<string | number> }> = [{ value: body, path: [] }];
  while (stack.length && errors.length < MAX_BODY_ISSUES) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      const message = stringProblem(value);
      if (message) errors.push({ path: formatPath(path), message });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_JSON_DEPTH) {
      errors.push({ path: formatPath(path), message: `nested deeper than ${MAX_JSON_DEPTH} levels` });
      continue;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        if (value[i] !== null && (typeof value[i] === 'object' || typeof value[i] === 'string'))
          stack.push({ value: value[i], path: [...path, i] });
      continue;
    }
    const children: Array<{ value: unknown; path: Array<string | number> }> = [];
    for (const k of Object.keys(value)) {
      const keyMessage = stringProblem(k);
      if (keyMessage) {
        errors.push({
          path: (path.length ? formatPath(path) : '') + quotedKey(k),
          message: `${keyMessage} (in a field name)`,
        });
        continue;
      }
      const v = (value as Record<string, unknown>)[k];
      if (v !== null && (typeof v === 'object' || typeof v === 'string'))
        children.push({ value: v, path: [...path, k] });
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]); // last in, first out: document order
  }
  return errors;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (not Unicode text). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function stringProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode (a lone surrogate \\ud800–\\udfff was sent)';
  return null;
}

/** A key that cannot be shown as `.key` is shown as `["k\u0000"]`, escaped so the path itself stays clean. */
function quotedKey(k: string): string {
  return `["${Array.from(k, (c) => {
    const code = c.codePointAt(0)!;
    return code < 0x20 || (code >= 0xd800 && code <= 0xdfff) ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  }).join('')}"]`;
}

/**
 * The API's one JSON body parser (Nest's own is turned off with `bodyParser: false`): Fastify's default parser
 * (prototype-poisoning protection, body limit), then `hostileJsonProblems`, before any guard or handler runs, so even
 * a public route (console sign-in) answers 400 with the path rather than passing such strings to the database.
 */
export function registerJsonBodyParser(fastify: FastifyInstance, bodyLimit: number): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    parse(request, body as string, (err, value) => {
      if (err) return done(err);
      const errors = hostileJsonProblems(value);
      if (errors.length) return done(Problem.validation(errors), undefined);
      done(null, value);
    });
  });
}
