/**
 * What a simulated world offers the runner. A world is a seeded, deterministic stream of requests (a user context,
 * a candidate list, pre-drawn uniforms for the clicks and lags) and it knows the true click probability of every
 * candidate in every slot, so the runner can score any slate against the oracle slate.
 *
 * Common random numbers: everything a request carries is drawn before any policy chooses, from the world's own
 * generator, so the trajectory (contexts, catalog churn, click uniforms, lags) is a function of the seed alone and
 * every compared policy faces the same draws.
 */
export interface WorldCandidate {
  id: string;
  /** Item features in the order of `WorldSpec.itemFeatures`. */
  features: number[];
}

export interface WorldRequest {
  /** 0-based decision index. */
  index: number;
  /** Simulated seconds since the start of the run. */
  time: number;
  unitId: string;
  /** Context features in the order of `WorldSpec.contextFeatures`. */
  context: number[];
  candidates: WorldCandidate[];
  /** One uniform per slot: slot j is clicked when `clickUniforms[j] < p(item in slot j)` (common random numbers). */
  clickUniforms: number[];
  /** One reward lag per slot, in simulated seconds. */
  lags: number[];
  /** Present when the world replays a logged record (OBD): the logged item, its position (1-based), click and propensity. */
  logged?: { itemId: string; position: number; click: number; propensity: number };
}

export interface WorldSpec {
  world: string;
  description: string;
  contextFeatures: string[];
  itemFeatures: string[];
  slots: number;
  /** `fixture`: the PyTorch-exported news MLP (16 × 16 features) is uploaded and used as the ranker. */
  ranker: 'fixture' | 'none';
  shortlist: number;
  coldStartThreshold: number;
}

/** The truth for one request: a latent attractiveness per candidate and the click probability it gives in a slot. */
export interface RequestTruth {
  /** Latent score per candidate (request order); the click probability is increasing in it for every slot. */
  eta: Float64Array;
  /** P(click | candidate with latent score eta in slot `position` (0-based)). */
  clickProbability(eta: number, position: number): number;
}

export interface World {
  readonly spec: WorldSpec;
  /** The next request; deterministic for the world's seed. */
  next(): WorldRequest;
  /** The true click model for this request (may run the fixture ONNX model). */
  truth(req: WorldRequest): Promise<RequestTruth>;
  /** Items that arrived after the start: id → index of the first request that offered them. */
  readonly arrivals: ReadonlyMap<string, number>;
  close(): Promise<void>;
}
