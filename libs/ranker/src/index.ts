export * from './errors';
export * from './model-ref';
export * from './signature';
export type { Scorer, ScorerMetadata, ScoreResult } from './scorer';
export { NoneScorer } from './scorer';
export type { OnnxScorerOptions } from './onnx-scorer';
export { OnnxScorer, DEFAULT_MAX_ITEMS, validateModel, mulberry32 } from './onnx-scorer';
export * from './scorer-cache';
export * from './topn';
