/**
 * The OBD replay world, built from the Open Bandit Dataset sample ("men" campaign, apps/simulator/data/obd; see
 * its SOURCE.md). Each request replays one logged impression of the uniform-random log, in logged order (wrapping
 * around): its user features are the context, all 34 items are candidates, 3 slots as on ZOZOTOWN.
 *
 * "True click probability" here means a model FITTED ON THE LOGGED DATA, not the unknowable real one:
 *   P(click | user u, item i, position k) = σ(w₀ + α_i + γ_k + Σ_f v_f·1[user feature f] + c·affinity(u, i)),
 * an L2-regularized (λ = 2, intercept free) logistic regression fitted by Newton's method on both logs of the
 * campaign (uniform random and Bernoulli TS, 20,000 impressions, 115 clicks). Conditioning on (user, item,
 * position) keeps the fit unbiased whichever policy logged the row. The world is only as contextual as this fit:
 * with 115 clicks the user effects are weak, most of the signal is per item and per position.
 *
 * Alongside the model-based regret, every decision is scored by replay on the logged record (Li et al. 2011): when
 * the variant put the logged item in the logged position, the logged click counts with weight 1/propensity (IPS).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createRng, type Rng } from '@slotwise/bandit';
import type { RequestTruth, World, WorldCandidate, WorldRequest, WorldSpec } from '../world';
import { fitLogistic } from './logistic';

export interface ObdOptions {
  seed: number;
  /** Folder holding random-men.csv.gz, bts-men.csv.gz and men-item_context.csv. */
  dataDir: string;
  coldStartThreshold: number;
  /** Mean reward lag, simulated seconds. */
  meanLagSeconds: number;
}

/** apps/simulator/data/obd, from the sources or from the build output (dist/apps/simulator/src/worlds). */
export function resolveObdDataDir(): string {
  const candidates = [
    join(__dirname, '..', '..', 'data', 'obd'),
    join(__dirname, '..', '..', '..', '..', '..', 'apps', 'simulator', 'data', 'obd'),
    join(process.cwd(), 'apps', 'simulator', 'data', 'obd'),
  ];
  const found = candidates.find((d) => existsSync(join(d, 'random-men.csv.gz')));
  if (!found) throw new Error(`OBD sample not found (looked in ${candidates.join(', ')})`);
  return found;
}
const USER_FEATURES = ['user_feature_0', 'user_feature_1', 'user_feature_2', 'user_feature_3'];
const SLOTS = 3;
const LAMBDA = 2;

export interface ObdRecord {
  time: number;
  item: number;
  position: number;
  click: number;
  propensity: number;
  /** Index of each user feature's category (per feature). */
  user: number[];
  affinity: number[];
}

export interface ObdData {
  nItems: number;
  /** Distinct categories per user feature, in first-seen order over both logs. */
  userCategories: string[][];
  random: ObdRecord[];
  bts: ObdRecord[];
  /** Per item: item_feature_0 and the one-hot of item_feature_3. */
  itemFeatures: number[][];
  itemFeatureNames: string[];
}

function parseCsv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

export function loadObd(dataDir = resolveObdDataDir()): ObdData {
  const items = parseCsv(readFileSync(join(dataDir, 'men-item_context.csv'), 'utf8'));
  const col = (h: string[], name: string) => {
    const i = h.indexOf(name);
    if (i < 0) throw new Error(`OBD: column ${name} missing`);
    return i;
  };
  const f0 = col(items.header, 'item_feature_0');
  const f3 = col(items.header, 'item_feature_3');
  const idCol = col(items.header, 'item_id');
  const cats3 = [...new Set(items.rows.map((r) => r[f3]))];
  const nItems = items.rows.length;
  const itemFeatures: number[][] = new Array(nItems);
  for (const r of items.rows)
    itemFeatures[Number(r[idCol])] = [Number(r[f0]), ...cats3.map((c) => (r[f3] === c ? 1 : 0))];
  const userCategories: string[][] = USER_FEATURES.map(() => []);
  const read = (file: string): ObdRecord[] => {
    const { header, rows } = parseCsv(gunzipSync(readFileSync(join(dataDir, file))).toString('utf8'));
    const c = {
      ts: col(header, 'timestamp'),
      item: col(header, 'item_id'),
      pos: col(header, 'position'),
      click: col(header, 'click'),
      p: col(header, 'propensity_score'),
    };
    const uf = USER_FEATURES.map((n) => col(header, n));
    const aff = Array.from({ length: nItems }, (_, i) => col(header, `user-item_affinity_${i}`));
    return rows.map((r) => ({
      time: Date.parse(r[c.ts].replace(' ', 'T').replace(/\+00:00$/, 'Z')) / 1000,
      item: Number(r[c.item]),
      position: Number(r[c.pos]),
      click: Number(r[c.click]),
      propensity: Number(r[c.p]),
      user: uf.map((ci, f) => {
        let k = userCategories[f].indexOf(r[ci]);
        if (k < 0) k = userCategories[f].push(r[ci]) - 1;
        return k;
      }),
      affinity: aff.map((ci) => Number(r[ci])),
    }));
  };
  const random = read('random-men.csv.gz');
  const bts = read('bts-men.csv.gz');
  return {
    nItems,
    userCategories,
    random,
    bts,
    itemFeatures,
    itemFeatureNames: ['price_like', ...cats3.map((_, i) => `category_${i}`)],
  };
}

/** The fitted truth: weights over [1, item one-hot, position one-hot (2, 3), user one-hots, affinity]. */
export interface ObdModel {
  intercept: number;
  item: number[];
  /** Additive logit per position 1..3 (position 1 = 0). */
  position: number[];
  /** Per user feature, per category. */
  user: number[][];
  affinity: number;
  clicks: number;
  rows: number;
  iterations: number;
}

export function fitObdModel(data: ObdData): ObdModel {
  const cats = data.userCategories.map((c) => c.length);
  const userOffset = 1 + data.nItems + 2;
  const p = userOffset + cats.reduce((a, b) => a + b, 0) + 1;
  const rows: Float64Array[] = [];
  const y: number[] = [];
  for (const r of [...data.random, ...data.bts]) {
    const x = new Float64Array(p);
    x[0] = 1;
    x[1 + r.item] = 1;
    if (r.position > 1) x[1 + data.nItems + r.position - 2] = 1;
    let off = userOffset;
    r.user.forEach((k, f) => {
      x[off + k] = 1;
      off += cats[f];
    });
    x[p - 1] = r.affinity[r.item];
    rows.push(x);
    y.push(r.click);
  }
  const fit = fitLogistic(rows, y, LAMBDA, [0]);
  const w = fit.weights;
  let off = userOffset;
  const user = cats.map((n) => {
    const v = Array.from(w.subarray(off, off + n));
    off += n;
    return v;
  });
  return {
    intercept: w[0],
    item: Array.from(w.subarray(1, 1 + data.nItems)),
    position: [0, w[1 + data.nItems], w[2 + data.nItems]],
    user,
    affinity: w[p - 1],
    clicks: y.reduce((a, b) => a + b, 0),
    rows: y.length,
    iterations: fit.iterations,
  };
}

export class ObdWorld implements World {
  readonly spec: WorldSpec;
  readonly arrivals = new Map<string, number>();
  readonly model: ObdModel;
  private readonly rng: Rng;
  private index = 0;
  private readonly records: ObdRecord[];
  private readonly contextNames: string[];

  constructor(
    private readonly options: ObdOptions,
    private readonly data: ObdData = loadObd(options.dataDir),
  ) {
    this.model = fitObdModel(data);
    this.records = data.random;
    this.rng = createRng(`obd:${options.seed}:requests`);
    this.contextNames = data.userCategories.flatMap((c, f) => c.map((_, k) => `uf${f}_${k}`));
    this.spec = {
      world: 'obd',
      description: `Open Bandit Dataset replay (men campaign): ${data.random.length} logged uniform-random impressions replayed in order, ${data.nItems} items, ${SLOTS} slots; truth = logistic model fitted on ${this.model.rows} logged impressions (${this.model.clicks} clicks)`,
      contextFeatures: this.contextNames,
      itemFeatures: [...data.itemFeatureNames, 'affinity'],
      slots: SLOTS,
      ranker: 'none',
      shortlist: data.nItems,
      coldStartThreshold: options.coldStartThreshold,
    };
  }

  static async create(options: ObdOptions): Promise<ObdWorld> {
    return new ObdWorld(options);
  }

  next(): WorldRequest {
    const index = this.index++;
    const rec = this.records[index % this.records.length];
    const context: number[] = [];
    this.data.userCategories.forEach((c, f) => c.forEach((_, k) => context.push(rec.user[f] === k ? 1 : 0)));
    const candidates: WorldCandidate[] = this.data.itemFeatures.map((feat, i) => ({
      id: `item-${i}`,
      features: [...feat, rec.affinity[i]],
    }));
    const t0 = this.records[0].time;
    const cycle = this.records[this.records.length - 1].time - t0 + 1;
    return {
      index,
      time: rec.time - t0 + Math.floor(index / this.records.length) * cycle,
      unitId: `obd-${index}`,
      context,
      candidates,
      clickUniforms: Array.from({ length: SLOTS }, () => this.rng.uniform()),
      lags: Array.from({ length: SLOTS }, () => -Math.log(1 - this.rng.uniform()) * this.options.meanLagSeconds),
      logged: { itemId: `item-${rec.item}`, position: rec.position, click: rec.click, propensity: rec.propensity },
    };
  }

  async truth(req: WorldRequest): Promise<RequestTruth> {
    const m = this.model;
    const rec = this.records[req.index % this.records.length];
    let userPart = m.intercept;
    rec.user.forEach((k, f) => (userPart += m.user[f][k]));
    const eta = Float64Array.from(req.candidates, (_, i) => userPart + m.item[i] + m.affinity * rec.affinity[i]);
    return { eta, clickProbability: (e, j) => 1 / (1 + Math.exp(-(e + m.position[j]))) };
  }

  async close(): Promise<void> {}
}
