/** One validation problem, in the API's `errors: [{path, message}]` shape. Paths look like `targeting.rules[1].value`. */
export interface ValidationError {
  path: string;
  message: string;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
