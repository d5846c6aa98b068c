/**
 * Model references: `name@version`, e.g. `news-mlp@3` (parsed by libs/ranker's `parseModelRef`).
 *
 * - name: 1–64 characters, lower-case letters, digits, `_` and `-`, starting with a letter or digit;
 * - version: a positive integer without leading zeros (1 … 999999999), so `news-mlp@3` and `news-mlp@03` can never
 *   name two different models.
 */
export const MODEL_REF_PATTERN = /^([a-z0-9][a-z0-9_-]{0,63})@([1-9][0-9]{0,8})$/;
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
