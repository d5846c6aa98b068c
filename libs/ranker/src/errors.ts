/** One problem with a request or an upload, addressed by a field path (`signature.scoreOutput`, `model`, …). */
export interface FieldError {
  path: string;
  message: string;
}

/**
 * A ranker model or signature that cannot be used. `errors` carries field-path errors that the API layer can put
 * straight into a problem+json `errors` array (status 400/422 at upload time).
 */
export class RankerModelError extends Error {
  override readonly name = 'RankerModelError';
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  }
}

/** A `score()` call with inputs that do not match the model (wrong lengths, too many items): a caller bug. */
export class RankerInputError extends Error {
  override readonly name = 'RankerInputError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}
