import { z } from 'zod';

/** Longest unit id, in UTF-16 code units (what JSON strings and zod count). */
export const MAX_UNIT_ID_LENGTH = 256;

// In a `u` regex a well-formed surrogate pair is one code point, so this class only matches unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
// Unicode general category Cc: the C0 controls U+0000–U+001F, DEL U+007F and the C1 controls U+0080–U+009F.
const CONTROL = /\p{Cc}/u;

/**
 * A unit id (user, device, session…) as every Slotwise SDK hashes it: any Unicode text of 1–256 UTF-16 code units
 * without control characters (general category Cc: C0, DEL, C1). Spaces, U+FEFF and every other code point are
 * ordinary characters, hashed over their UTF-8 bytes (libs/assignment `hashUnit`) and stored as they are. Lone
 * surrogates (a JSON `"\ud800"` without its pair) are refused: they are not Unicode scalar values, have no UTF-8
 * form, and PostgreSQL would store every one of them as the same U+FFFD.
 */
export const unitIdSchema = z
  .string()
  .min(1, `must be 1–${MAX_UNIT_ID_LENGTH} characters`)
  .max(MAX_UNIT_ID_LENGTH, `must be 1–${MAX_UNIT_ID_LENGTH} characters`)
  .refine(
    (s) => !LONE_SURROGATE.test(s),
    'must be valid Unicode text: it holds a lone UTF-16 surrogate (U+D800–U+DFFF without its pair), which has no UTF-8 form',
  )
  .refine((s) => !CONTROL.test(s), 'must not contain control characters (U+0000–U+001F, U+007F–U+009F)');
