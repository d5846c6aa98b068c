import { MODEL_NAME_PATTERN } from './model-ref';
import { z } from 'zod';

export const uploadModelSchema = z.strictObject({
  name: z.string().regex(MODEL_NAME_PATTERN, `must match ${MODEL_NAME_PATTERN.source}`),
  /** Omitted: the next version of this name. */
  version: z.int().min(1).max(999_999_999).optional(),
  /** How the model's inputs and outputs map to context, items, score and embedding (see libs/ranker). */
  signature: z.record(z.string(), z.unknown()),
  /** The .onnx file, base64-encoded. */
  onnx: z.base64({ message: 'must be the ONNX file encoded as base64' }).min(8),
  description: z.string().max(2000).optional(),
});
export type UploadModelInput = z.infer<typeof uploadModelSchema>;
