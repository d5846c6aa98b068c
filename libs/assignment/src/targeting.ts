import { RE2JS } from 're2js';
import { ValidationError, isPlainObject } from './errors';

/** Values a rule compares with. Attribute values of other types (objects, arrays) never equal or order against them. */
export type Scalar = string | number | boolean | null;
export type Attributes = Readonly<Record<string, unknown>>;

export type ComparisonOp = 'eq' | 'neq';
export type SetOp = 'in' | 'nin';
export type OrderOp = 'gt' | 'gte' | 'lt' | 'lte';

/** Targeting rule AST. Leaf rules name an attribute (`attr`, a top-level key of the unit's attributes). */
export type Rule =
  | { op: 'and'; rules: Rule[] }
  | { op: 'or'; rules: Rule[] }
  | { op: 'not'; rule: Rule }
  | { op: ComparisonOp; attr: string; value: Scalar }
  | { op: SetOp; attr: string; value: Scalar[] }
  | { op: OrderOp; attr: string; value: number | string }
  | { op: 'exists'; attr: string }
  | { op: 'regex'; attr: string; pattern: string; flags?: string };

export const RULE_OPS = [
  'and',
  'or',
  'not',
  'eq',
  'neq',
  'in',
  'nin',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'regex',
] as const;

/** Limits that keep rule evaluation cheap and safe. */
export const RULE_LIMITS = {
  /** Longest accepted regex pattern, in UTF-16 code units. */
  maxPatternLength: 256,
  /** Attribute strings longer than this never match a regex (RE2 time is linear in it; this bounds the constant). */
  maxRegexInputLength: 1024,
  /** Deepest nesting of and/or/not. */
  maxDepth: 16,
  /** Most nodes in one rule tree. */
  maxNodes: 512,
  /** Most values in an in/nin list. */
  maxSetSize: 10_000,
  /** Longest attribute name. */
  maxAttrLength: 128,
} as const;

/** Allowed regex flags: no `g` / `y` (they make `test` stateful in JavaScript, and mean nothing for a predicate). */
const REGEX_FLAGS = /^[imsu]*$/;

/**
 * Compile a targeting pattern with RE2 semantics (re2js, a pure-JS port of RE2): matching time is linear in the
 * input length for every pattern, so no pattern can make an assign hang (`^a*a*a*a*a*$` against 1,000 "a" + "!"
 * is as cheap as `^a$`). Flags: `i` case-insensitive, `m` `^`/`$` at line breaks, `s` `.` matches `\n`; `u` is
 * accepted for compatibility and changes nothing (RE2 always matches by code point). Syntax is RE2's
 * (https://github.com/google/re2/wiki/Syntax): no back-references or lookaround, `\x{00e9}` for a code point.
 * Throws RE2JSSyntaxException (or the RE2JSFlagsException family) on an invalid pattern.
 */
export function compilePattern(pattern: string, flags = ''): { test(input: string): boolean } {
  let f = 0;
  if (flags.includes('i')) f |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) f |= RE2JS.MULTILINE;
  if (flags.includes('s')) f |= RE2JS.DOTALL;
  return RE2JS.compile(pattern, f);
}

/**
 * For a pattern RE2 refused: a clear message when it looks like it uses JavaScript features RE2 does not have
 * (back-references, lookaround), else null (the caller then shows RE2's own syntax error).
 */
export function unsupportedRegexReason(pattern: string): string | null {
  if (/\\[1-9]|\\k</.test(pattern))
    return 'back-references are not supported (patterns use RE2 syntax, which matches in linear time)';
  if (/\(\?<?[=!]/.test(pattern))
    return 'lookahead and lookbehind are not supported (patterns use RE2 syntax, which matches in linear time)';
  return null;
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * Field-path errors for a targeting rule given as untrusted JSON; an empty list means it is a valid {@link Rule}.
 * `path` is the prefix of every error path (default `targeting`).
 */
export function validateRule(input: unknown, path = 'targeting'): ValidationError[] {
  const errors: ValidationError[] = [];
  let nodes = 0;
  const visit = (node: unknown, p: string, depth: number): void => {
    nodes++;
    if (nodes > RULE_LIMITS.maxNodes) {
      if (nodes === RULE_LIMITS.maxNodes + 1)
        errors.push({ path: p, message: `a rule may have at most ${RULE_LIMITS.maxNodes} nodes` });
      return;
    }
    if (!isPlainObject(node)) {
      errors.push({ path: p, message: `must be a rule object, got ${describe(node)}` });
      return;
    }
    const op = node.op;
    if (typeof op !== 'string' || !(RULE_OPS as readonly string[]).includes(op)) {
      errors.push({ path: `${p}.op`, message: `must be one of ${RULE_OPS.join(', ')}` });
      return;
    }
    const allowed = new Set(['op']);
    if (op === 'and' || op === 'or' || op === 'not') {
      if (depth >= RULE_LIMITS.maxDepth) {
        errors.push({ path: p, message: `rules may nest at most ${RULE_LIMITS.maxDepth} deep` });
        return;
      }
      if (op === 'not') {
        allowed.add('rule');
        if (node.rule === undefined) errors.push({ path: `${p}.rule`, message: 'is required' });
        else visit(node.rule, `${p}.rule`, depth + 1);
      } else {
        allowed.add('rules');
        if (!Array.isArray(node.rules)) errors.push({ path: `${p}.rules`, message: 'must be an array of rules' });
        else node.rules.forEach((r: unknown, i: number) => visit(r, `${p}.rules[${i}]`, depth + 1));
      }
    } else {
      allowed.add('attr');
      const attr = node.attr;
      if (typeof attr !== 'string' || attr.length === 0 || attr.length > RULE_LIMITS.maxAttrLength) {
        errors.push({
          path: `${p}.attr`,
          message: `must be a non-empty string of at most ${RULE_LIMITS.maxAttrLength} characters`,
        });
      }
      const value = node.value;
      switch (op) {
        case 'eq':
        case 'neq':
          allowed.add('value');
          if (!isScalar(value))
            errors.push({
              path: `${p}.value`,
              message: `must be a string, finite number, boolean or null, got ${describe(value)}`,
            });
          break;
        case 'in':
        case 'nin':
          allowed.add('value');
          if (!Array.isArray(value)) errors.push({ path: `${p}.value`, message: 'must be an array' });
          else if (value.length > RULE_LIMITS.maxSetSize)
            errors.push({ path: `${p}.value`, message: `may hold at most ${RULE_LIMITS.maxSetSize} values` });
          else
            value.forEach((v: unknown, i: number) => {
              if (!isScalar(v))
                errors.push({
                  path: `${p}.value[${i}]`,
                  message: `must be a string, finite number, boolean or null, got ${describe(v)}`,
                });
            });
          break;
        case 'gt':
        case 'gte':
        case 'lt':
        case 'lte':
          allowed.add('value');
          if (!(typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)))) {
            errors.push({ path: `${p}.value`, message: `must be a finite number or a string, got ${describe(value)}` });
          }
          break;
        case 'exists':
          break;
        case 'regex': {
          allowed.add('pattern');
          allowed.add('flags');
          const { pattern, flags } = node;
          if (
            flags !== undefined &&
            (typeof flags !== 'string' || !REGEX_FLAGS.test(flags) || new Set(flags).size !== flags.length)
          ) {
            errors.push({ path: `${p}.flags`, message: 'may only hold the flags i, m, s, u, each at most once' });
          }
          if (typeof pattern !== 'string' || pattern.length === 0) {
            errors.push({ path: `${p}.pattern`, message: 'must be a non-empty string' });
          } else if (pattern.length > RULE_LIMITS.maxPatternLength) {
            errors.push({
              path: `${p}.pattern`,
              message: `must be at most ${RULE_LIMITS.maxPatternLength} characters`,
            });
          } else {
            try {
              compilePattern(pattern, typeof flags === 'string' && REGEX_FLAGS.test(flags) ? flags : '');
            } catch (e) {
              errors.push({
                path: `${p}.pattern`,
                message:
                  unsupportedRegexReason(pattern) ?? `is not a valid RE2 regular expression: ${(e as Error).message}`,
              });
            }
          }
          break;
        }
      }
    }
    for (const k of Object.keys(node))
      if (!allowed.has(k)) errors.push({ path: `${p}.${k}`, message: `is not a field of a "${op}" rule` });
  };
  visit(input, path, 0);
  return errors;
}

/** Parse untrusted JSON into a {@link Rule}, or return the field-path errors. */
export function parseRule(
  input: unknown,
  path = 'targeting',
): { ok: true; rule: Rule } | { ok: false; errors: ValidationError[] } {
  const errors = validateRule(input, path);
  return errors.length === 0 ? { ok: true, rule: input as Rule } : { ok: false, errors };
}

export type RulePredicate = (attributes: Attributes) => boolean;

function lookup(attributes: Attributes, attr: string): unknown {
  return Object.prototype.hasOwnProperty.call(attributes, attr) ? attributes[attr] : undefined;
}

/**
 * Compile a rule to a predicate (regexes compiled once). Throws a RangeError listing the errors when the rule is invalid.
 *
 * Semantics: `eq` is strict equality without coercion (`"1"` ≠ `1`); `neq` is `not eq`, `nin` is `not in`
 * (so a missing attribute satisfies `neq` / `nin`); `exists` is true when the attribute is present and not
 * null; `gt`/`gte`/`lt`/`lte` compare two finite numbers or two strings (UTF-16 code unit order) and are
 * false otherwise; `regex` tests (RE2 semantics, unanchored, see {@link compilePattern}) string attributes up to {@link RULE_LIMITS}.maxRegexInputLength; empty `and`
 * is true, empty `or` is false.
 */
export function compileRule(rule: Rule): RulePredicate {
  const errors = validateRule(rule);
  if (errors.length > 0)
    throw new RangeError(`invalid targeting rule: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  return compileNode(rule);
}

function compileNode(rule: Rule): RulePredicate {
  switch (rule.op) {
    case 'and': {
      const parts = rule.rules.map(compileNode);
      return (a) => parts.every((f) => f(a));
    }
    case 'or': {
      const parts = rule.rules.map(compileNode);
      return (a) => parts.some((f) => f(a));
    }
    case 'not': {
      const inner = compileNode(rule.rule);
      return (a) => !inner(a);
    }
    case 'eq':
    case 'neq': {
      const { attr, value } = rule;
      const neg = rule.op === 'neq';
      return (a) => (lookup(a, attr) === value) !== neg;
    }
    case 'in':
    case 'nin': {
      const { attr } = rule;
      const set = new Set<unknown>(rule.value);
      const neg = rule.op === 'nin';
      return (a) => {
        const v = lookup(a, attr);
        return (isScalar(v) && set.has(v)) !== neg;
      };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const { attr, value, op } = rule;
      return (a) => {
        const v = lookup(a, attr);
        const comparable =
          typeof value === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === 'string';
        if (!comparable) return false;
        const x = v as number | string;
        switch (op) {
          case 'gt':
            return x > value;
          case 'gte':
            return x >= value;
          case 'lt':
            return x < value;
          case 'lte':
            return x <= value;
        }
      };
    }
    case 'exists': {
      const { attr } = rule;
      return (a) => {
        const v = lookup(a, attr);
        return v !== undefined && v !== null;
      };
    }
    case 'regex': {
      const { attr } = rule;
      const re = compilePattern(rule.pattern, rule.flags ?? '');
      return (a) => {
        const v = lookup(a, attr);
        return typeof v === 'string' && v.length <= RULE_LIMITS.maxRegexInputLength && re.test(v);
      };
    }
  }
}

/** Evaluate a rule once (compiles it; use {@link compileRule} for repeated use). */
export function evaluateRule(rule: Rule, attributes: Attributes): boolean {
  return compileRule(rule)(attributes);
}
