/**
 * Model references: `name@version`, e.g. `news-mlp@3`.
 *
 * - name: 1–64 characters, lower-case letters, digits, `_` and `-`, starting with a letter or digit;
 * - version: a positive integer without leading zeros (1 … 999999999), so `news-mlp@3` and `news-mlp@03` can never
 *   name two different models.
 *
 * `none` (no model: keep the input order) is not a reference; see {@link parseRankerModel}.
 */
import { MODEL_NAME_PATTERN, MODEL_REF_PATTERN } from '@slotwise/contracts';

export { MODEL_NAME_PATTERN, MODEL_REF_PATTERN };

export interface ModelRef {
  name: string;
  version: number;
  /** Canonical `name@version`. */
  ref: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseModelRef(value: unknown): ParseResult<ModelRef> {
  if (typeof value !== 'string') return { ok: false, message: 'must be a string "name@version"' };
  const m = MODEL_REF_PATTERN.exec(value);
  if (!m) {
    return {
      ok: false,
      message: `"${truncate(value)}" is not a model reference: expected name@version, name matching ${MODEL_NAME_PATTERN.source} and version a positive integer (e.g. news-mlp@3)`,
    };
  }
  return { ok: true, value: { name: m[1], version: Number(m[2]), ref: value } };
}

export function formatModelRef(name: string, version: number): string {
  const ref = `${name}@${version}`;
  if (!MODEL_REF_PATTERN.test(ref)) throw new RangeError(`invalid model reference ${JSON.stringify(ref)}`);
  return ref;
}

/** The value of an experiment's `ranker.model`: `"none"` or a model reference. */
export type RankerModelSpec = { kind: 'none' } | ({ kind: 'onnx' } & ModelRef);

export function parseRankerModel(value: unknown): ParseResult<RankerModelSpec> {
  if (value === 'none') return { ok: true, value: { kind: 'none' } };
  const r = parseModelRef(value);
  if (!r.ok) return { ok: false, message: `${r.message}, or "none"` };
  return { ok: true, value: { kind: 'onnx', ...r.value } };
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
