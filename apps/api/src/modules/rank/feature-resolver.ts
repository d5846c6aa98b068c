import type { FieldError } from '../../common/http/problem';

type FeatureInput = Record<string, number> | number[] | undefined;

/**
 * Turns named or positional features into a vector in the experiment's schema order. Named features outside the
 * schema are ignored (back-ends often send more than an experiment uses); a schema feature that is missing is an error.
 */
export function toVector(
  input: FeatureInput,
  names: readonly string[],
  path: string,
  errors: FieldError[],
  out?: Float64Array,
): Float64Array {
  const v = out ?? new Float64Array(names.length);
  if (Array.isArray(input)) {
    if (input.length !== names.length) {
      errors.push({
        path,
        message: `expected ${names.length} numbers in the order [${names.join(', ')}], got ${input.length}`,
      });
      return v;
    }
    for (let i = 0; i < names.length; i++) v[i] = input[i];
    return v;
  }
  for (let i = 0; i < names.length; i++) {
    const value = input?.[names[i]];
    if (value === undefined)
      errors.push({ path: `${path}.${names[i]}`, message: 'missing: the experiment uses this feature' });
    else v[i] = value;
  }
  return v;
}
