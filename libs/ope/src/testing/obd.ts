/**
 * Test helper: reads the committed Open Bandit Dataset sample (libs/ope/data/obd, Apache-2.0, see SOURCE.md there)
 * in file order. Node only (fs, zlib); not exported from the library.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { gunzipSync } from 'zlib';
import type { BanditLog } from '../types';

export interface ObdLog extends BanditLog {
  action: Int32Array;
  position: Int32Array;
  reward: Float64Array;
  pscore: Float64Array;
  /** user_feature_0..3 (hashed categoricals), per round */
  userFeatures: string[][];
}

export const OBD_DIR = join(__dirname, '..', '..', 'data', 'obd');

/** One committed OBD log in file order (no sorting); positions made 0-based. The files have no quoted fields. */
export function loadObd(behavior: 'random' | 'bts', campaign: 'men' | 'women'): ObdLog {
  const text = gunzipSync(readFileSync(join(OBD_DIR, `${behavior}-${campaign}.csv.gz`))).toString('utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const header = lines[0].split(',');
  const col = (name: string): number => {
    const j = header.indexOf(name);
    if (j < 0) throw new Error(`column ${name} missing`);
    return j;
  };
  const [ja, jp, jc, js] = ['item_id', 'position', 'click', 'propensity_score'].map(col);
  const ju = [0, 1, 2, 3].map((k) => col(`user_feature_${k}`));
  const n = lines.length - 1;
  const log: ObdLog = {
    action: new Int32Array(n),
    position: new Int32Array(n),
    reward: new Float64Array(n),
    pscore: new Float64Array(n),
    userFeatures: [],
  };
  for (let i = 0; i < n; i++) {
    const f = lines[i + 1].split(',');
    log.action[i] = Number(f[ja]);
    log.position[i] = Number(f[jp]) - 1;
    log.reward[i] = Number(f[jc]);
    log.pscore[i] = Number(f[js]);
    log.userFeatures.push(ju.map((j) => f[j]));
  }
  return log;
}

/** One-hot of each user-feature column, categories sorted (as tools/ope/gen_golden.py `design`): (n, dContext). */
export function userFeatureOneHot(log: ObdLog): { context: Float64Array; dContext: number } {
  const n = log.userFeatures.length;
  const cats = [0, 1, 2, 3].map((k) => [...new Set(log.userFeatures.map((u) => u[k]))].sort());
  const offsets: number[] = [];
  let d = 0;
  for (const c of cats) {
    offsets.push(d);
    d += c.length;
  }
  const index = cats.map((c) => new Map(c.map((v, j) => [v, j])));
  const context = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < 4; k++) context[i * d + offsets[k] + index[k].get(log.userFeatures[i][k])!] = 1;
  return { context, dContext: d };
}
