/**
 * Neural-linear (Riquelme, Tucker & Snoek 2018): the NIG linear model run on the ranker's embedding of each
 * candidate (plus an intercept) instead of raw features. A thin wrapper over LinearModel with the 'embedding'
 * feature map; candidates must carry `embedding`.
 */
import { LinearModel } from './linear';
import { NIG_DEFAULTS, type NigPrior, type NoiseModel } from './nig';

export interface NeuralLinearOptions extends Partial<NigPrior> {
  embeddingDim: number;
  /** prepend a constant 1 (default true) */
  intercept?: boolean;
  /** default 'item' (per-item noise scale, as `linear`) */
  noise?: NoiseModel;
}

export function createNeuralLinearModel(opts: NeuralLinearOptions): LinearModel {
  return new LinearModel(
    {
      lambda: opts.lambda ?? NIG_DEFAULTS.lambda,
      a0: opts.a0 ?? NIG_DEFAULTS.a0,
      b0: opts.b0 ?? NIG_DEFAULTS.b0,
      features: {
        kind: 'embedding',
        contextDim: 0,
        itemDim: 0,
        embeddingDim: opts.embeddingDim,
        intercept: opts.intercept ?? true,
      },
      noise: opts.noise ?? 'item',
    },
    'neural-linear',
  );
}
