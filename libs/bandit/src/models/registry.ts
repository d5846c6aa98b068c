/** Model construction by type, and from a stored snapshot. */
import { type BanditModel, MODEL_TYPES } from '../types';
import { BetaModel, type BetaOptions, type BetaSnapshot } from './beta';
import { HybridModel, type HybridOptions, type HybridSnapshot } from './hybrid';
import { LinearModel, type LinearOptions, type LinearSnapshot } from './linear';
import { createNeuralLinearModel, type NeuralLinearOptions } from './neural-linear';

export type ModelSpec =
  | ({ type: 'beta' } & BetaOptions)
  | ({ type: 'linear' } & LinearOptions)
  | ({ type: 'hybrid' } & HybridOptions)
  | ({ type: 'neural-linear' } & NeuralLinearOptions);

export type ModelSnapshot = BetaSnapshot | LinearSnapshot | HybridSnapshot;

export type AnyModel = BetaModel | LinearModel | HybridModel;

export function createModel(spec: ModelSpec): AnyModel {
  switch (spec.type) {
    case 'beta':
      return BetaModel.create(spec);
    case 'linear':
      return LinearModel.create(spec);
    case 'hybrid':
      return HybridModel.create(spec);
    case 'neural-linear':
      return createNeuralLinearModel(spec);
    default:
      throw new RangeError(`unknown model type "${String((spec as { type: unknown }).type)}"`);
  }
}

export function modelFromSnapshot(s: ModelSnapshot): AnyModel {
  switch (s.type) {
    case 'beta':
      return BetaModel.fromSnapshot(s);
    case 'linear':
    case 'neural-linear':
      return LinearModel.fromSnapshot(s);
    case 'hybrid':
      return HybridModel.fromSnapshot(s);
    default:
      throw new RangeError(`unknown model snapshot type "${String((s as { type: unknown }).type)}"`);
  }
}

export function isBanditModel(m: unknown): m is BanditModel {
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof (m as BanditModel).prepare === 'function' &&
    MODEL_TYPES.includes((m as BanditModel).type)
  );
}
