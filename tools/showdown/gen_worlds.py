#!/usr/bin/env python3
"""Generate the showdown worlds and the NumPy reference policies' results (common random numbers).

    /usr/bin/python3 tools/showdown/gen_worlds.py            # all worlds, 5 seeds each (committed output)
    /usr/bin/python3 tools/showdown/gen_worlds.py --golden   # only the LinFullPost golden file for the unit test
    /usr/bin/python3 tools/showdown/gen_worlds.py --manifest # only bench/showdown/MANIFEST.json (hashes, sizes)
    (run tools/showdown/export_datasets.py first when the datasets are missing; the outputs are committed)

Each world is generated ONCE here and written to bench/showdown/worlds/<name>.json.gz: every context, item, arrival
time, reward-noise draw and delay the TypeScript runner (apps/simulator/src/showdown) replays, plus the reference
policies' results on exactly those draws:

- `linfullpost`: Riquelme, Tucker & Snoek (2018) LinFullPost — per action a Bayesian linear regression on x = [1, context]
  with a Normal–Inverse-Gamma prior (a0 = b0 = 6, λ = 0.25): σ² ~ InvGamma(an, bn), β ~ N(μn, σ² Λn⁻¹),
  Λn = XᵀX + λI, μn = Λn⁻¹Xᵀy, an = a0 + n/2, bn = b0 + ½(yᵀy − μnᵀΛnμn). One draw per action per decision; the
  slate is filled greedily by the drawn scores. Updated when the reward arrives (delayed worlds: later).
- `egreedy`: ε = 0.05 — with probability ε a uniformly random slate, else the top slots by the same posterior mean.
- `uniform`: a uniformly random slate.
- `lints`: the NumPy counterpart of libs/bandit's `linear` model — ONE NIG regression (same prior) on the interaction
  features [1, context] ⊗ [1, item features], one β draw per decision (a check on the TypeScript sampler; not a bar).

Definitions shared with the TypeScript runner (keep them in step with apps/simulator/src/showdown/world.ts):
- mean(t, a): expected reward of item a at decision t in a slot of weight 1; a slot j multiplies it by
  positionWeights[j] (bilinear logistic: P(click) = w_j · σ(η); bilinear identity: w_j · η).
  Bilinear η(t, a) = [1, c_t]ᵀ B_t [1, f_a] + δ_a, B_t = B0 (+ t/(T−1)·(B1 − B0) when drifting).
- realized reward of item a in slot j: logistic — 1 if noise[t][j] < w_j·σ(η) else 0; identity — w_j·η + σ·noise[t][j];
  multiclass — 1 if a is the label else 0; act-skip — skip 0, act +5 on the good class, on the bad class −35 when
  noise[t][0] < 0.5 else +5 (mushroom-style heavy tail: mean −15).
- regret(t) = Σ_j w_j·(top-j mean among the available items) − Σ_j w_j·mean(t, chosen_j)   (expected, not realized).
- a reward of decision t is applied before decision t + 1 + lag[t] (lag 0 without delays).
- explored: the chosen item differs from what the same policy picks by posterior mean given the earlier slots.
"""
import argparse
import csv
import gzip
import hashlib
import io
import json
import os

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DATA = os.path.join(ROOT, 'bench', 'showdown', 'data')
OUT = os.path.join(ROOT, 'bench', 'showdown', 'worlds')
GOLDEN = os.path.join(ROOT, 'apps', 'simulator', 'src', 'showdown', '__golden__')

A0, B0, LAMBDA = 6.0, 6.0, 0.25
EPSILON = 0.05
CHECKPOINT = 100
SEEDS = [1, 2, 3, 4, 5]


def r4(a):
    return np.round(np.asarray(a, dtype=float), 4)


def r6(a):
    return np.round(np.asarray(a, dtype=float), 6)


def read_csv_gz(name):
    with gzip.open(os.path.join(DATA, f'{name}.csv.gz'), 'rt') as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    x = np.array([[float(v) for v in r[:-1]] for r in body])
    y = np.array([int(r[-1]) for r in body])
    return header[:-1], x, y


def standardize(x):
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


# ---------------------------------------------------------------- worlds

def bilinear_world(name, *, seed, T, K, dc, di, link, slots=1, weights=(1.0,), noise_sd=1.0, b_sd=0.4, base=0.0,
                   item_sd=0.0, arrivals=None, drift=False, lag_mean=0):
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    contexts = r4(rng.normal(size=(T, dc)))
    feats = r4(rng.normal(size=(K, di)))
    b0 = r4(rng.normal(scale=b_sd, size=(dc + 1, di + 1)))
    b0[0, 0] = base
    b1 = r4(rng.normal(scale=b_sd, size=(dc + 1, di + 1))) if drift else None
    if b1 is not None:
        b1[0, 0] = base
    bias = r4(rng.normal(scale=item_sd, size=K)) if item_sd > 0 else np.zeros(K)
    arrival = np.zeros(K, dtype=int) if arrivals is None else np.asarray(arrivals(K), dtype=int)
    ranker = r4(b0[0, 0] + b0[0, 1:] @ feats.T + bias + rng.normal(scale=0.25, size=K))
    if link == 'logistic':
        noise = r6(rng.uniform(size=(T, slots)))
    else:
        noise = r4(rng.normal(size=(T, slots)))
    lags = rng.geometric(1.0 / lag_mean, size=T) - 1 if lag_mean > 0 else None
    data = {
        'seed': seed, 'contexts': contexts.tolist(),
        'items': [{'id': f'item-{a:02d}', 'features': feats[a].tolist(), 'arrival': int(arrival[a]), 'rankerScore': float(ranker[a])} for a in range(K)],
        'B0': b0.tolist(), 'itemBias': bias.tolist(), 'noise': noise.tolist(),
    }
    if b1 is not None:
        data['B1'] = b1.tolist()
    if lags is not None:
        data['lags'] = lags.astype(int).tolist()
    return data


def classification_seed(name, *, seed, T, n_rows, n_classes, act_skip):
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    data = {'seed': seed, 'rowIndex': rng.integers(0, n_rows, size=T).astype(int).tolist()}
    if act_skip:
        data['noise'] = r6(rng.uniform(size=(T, 1))).tolist()
    return data


def digits_pooled(x):
    """8×8 digits → 4×4 by averaging 2×2 blocks (16 features instead of 64, so the models stay small)."""
    img = x.reshape(-1, 8, 8)
    return img.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16)


OBD_DIR = os.path.join(ROOT, 'apps', 'simulator', 'data', 'obd')
USER_FEATURES = ['user_feature_0', 'user_feature_1', 'user_feature_2', 'user_feature_3']


def fit_logistic_l2(x, y, lam, unpenalized=(0,), iters=50):
    """Newton's method for −Σ log p(y|x) + λ/2 Σ_{j ∉ unpenalized} w_j² (as apps/simulator/src/worlds/logistic.ts)."""
    w = np.zeros(x.shape[1])
    pen = np.full(x.shape[1], lam)
    pen[list(unpenalized)] = 0
    for _ in range(iters):
        mu = 1 / (1 + np.exp(-(x @ w)))
        g = x.T @ (mu - y) + pen * w
        h = (x * (mu * (1 - mu))[:, None]).T @ x + np.diag(pen + 1e-9)
        step = np.linalg.solve(h, g)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return w


def obd_world(T):
    """OBD replay (men campaign sample): the logged users in logged order as contexts, the 34 items, 3 positions;
    the truth is an L2 logistic regression (λ = 2, intercept free) fitted on both logs of the sample:
    P(click | user u, item i, position k) = σ(w0 + α_i + γ_k + Σ_f v_f·1[user feature f]). (The simulator's OBD world
    also uses the per-row user–item affinity; a static item catalog cannot, so it is left out here.)"""
    import pandas as pd
    logs = [pd.read_csv(os.path.join(OBD_DIR, f), index_col=0) for f in ('random-men.csv.gz', 'bts-men.csv.gz')]
    both = pd.concat(logs, ignore_index=True)
    random_log = logs[0]
    items_df = pd.read_csv(os.path.join(OBD_DIR, 'men-item_context.csv'), index_col=0).sort_values('item_id')
    n_items = len(items_df)
    levels = {f: sorted(both[f].unique()) for f in USER_FEATURES}
    user_dim = sum(len(v) for v in levels.values())

    def user_onehot(df):
        out = np.zeros((len(df), user_dim))
        off = 0
        for f in USER_FEATURES:
            idx = np.searchsorted(levels[f], df[f].values)
            out[np.arange(len(df)), off + idx] = 1
            off += len(levels[f])
        return out

    def design(df):
        x = np.zeros((len(df), 1 + n_items + 3 + user_dim))
        x[:, 0] = 1
        x[np.arange(len(df)), 1 + df['item_id'].values] = 1
        x[np.arange(len(df)), 1 + n_items + df['position'].values - 1] = 1
        x[:, 1 + n_items + 3:] = user_onehot(df)
        return x

    w = fit_logistic_l2(design(both), both['click'].values.astype(float), 2.0)
    alpha, gamma, v = w[1:1 + n_items], w[1 + n_items:1 + n_items + 3], w[1 + n_items + 3:]
    users = user_onehot(random_log)
    distinct, inverse = np.unique(users, axis=0, return_inverse=True)
    base = w[0] + distinct @ v
    means = 1 / (1 + np.exp(-(base[:, None, None] + alpha[None, :, None] + gamma[None, None, :])))  # ctx × item × position
    import itertools
    f0 = items_df['item_feature_0'].values.astype(float)
    f0 = (f0 - f0.mean()) / f0.std()
    cats = sorted(items_df['item_feature_3'].unique())
    feats = np.hstack([f0[:, None], (items_df['item_feature_3'].values[:, None] == np.array(cats)[None, :]).astype(float)])
    meta = {
        'name': 'obd', 'description': 'OBD replay (ZOZOTOWN men campaign sample): logged users in logged order (4 categorical user features, '
        'one-hot), 34 items (standardized price-like item_feature_0 + item_feature_3 one-hot), 3 positions; truth = L2 logistic '
        'regression fitted on both logs (item, position and user effects; CTR ≈ 0.5 %).',
        'horizon': T, 'slots': 3, 'positionWeights': [1.0, 1.0, 1.0], 'contextDim': int(user_dim), 'itemDim': int(feats.shape[1]),
        'reward': {'type': 'position-table'}, 'stationary': True, 'hasRanker': True, 'delayed': False,
        # 115 clicks in 20,000 impressions: at 3,000 decisions no policy can learn much (uniform ≈ LinFullPost)
        'learnable': False,
        'source': 'apps/simulator/data/obd (Open Bandit Dataset small sample, st-tech/zr-obp, ZOZO Inc.; see its SOURCE.md)',
        'licence': 'Apache License 2.0 (zr-obp repository); dataset terms of use at https://research.zozo.com/data.html',
        'contextRows': distinct.astype(int).tolist(), 'tableMeans': np.round(means, 10).tolist(),
        'truthWeights': {'intercept': float(w[0]), 'item': alpha.tolist(), 'position': gamma.tolist(), 'user': v.tolist()},
    }
    # The click probability is increasing in α_i at every position, so the best slate uses the top 3 items by α:
    # the oracle is the best of their 6 orders (computed from the rounded table the runner reads).
    meta['oracle'] = [max(sum(meta['tableMeans'][c][i][j] for j, i in enumerate(perm)) for perm in itertools.permutations(np.argsort(-alpha, kind='stable')[:3])) for c in range(len(distinct))]

    def build(seed):
        rng = np.random.default_rng([seed, sum(map(ord, 'obd'))])
        start = ((seed - 1) * 2000) % len(inverse)
        idx = [int(inverse[(start + t) % len(inverse)]) for t in range(T)]
        ranker = r4(alpha + rng.normal(scale=0.25, size=n_items))
        return {
            'seed': seed, 'contextIndex': idx, 'noise': r6(rng.uniform(size=(T, 3))).tolist(),
            'items': [{'id': f'item-{i:02d}', 'features': r4(feats[i]).tolist(), 'arrival': 0, 'rankerScore': float(ranker[i])} for i in range(n_items)],
        }
    return meta, build


def world_specs():
    """Name → (meta, seed builder). Horizons are multiples of CHECKPOINT."""
    specs = {}

    def synth(name, description, T, link, stationary=True, **kw):
        K, dc, di = kw.pop('K', 10), kw.pop('dc', 5), kw.pop('di', 4)
        slots, weights = kw.get('slots', 1), kw.get('weights', (1.0,))
        meta = {
            'name': name, 'description': description, 'horizon': T, 'slots': slots, 'positionWeights': list(weights),
            'contextDim': dc, 'itemDim': di, 'reward': {'type': 'bilinear', 'link': link, **({'noiseSd': kw['noise_sd']} if link == 'identity' else {})},
            'stationary': stationary, 'hasRanker': True, 'delayed': kw.get('lag_mean', 0) > 0,
            'source': 'synthetic (generated by tools/showdown/gen_worlds.py with NumPy default_rng)', 'licence': 'generated data, no licence restrictions',
        }
        specs[name] = (meta, lambda seed: bilinear_world(name, seed=seed, T=T, K=K, dc=dc, di=di, link=link, **kw))

    synth('linear', 'Synthetic linear: 10 items, 5 context × 4 item features, reward = bilinear truth + N(0, 1) noise, 1 slot.',
          3000, 'identity', noise_sd=1.0, b_sd=0.3)
    synth('logistic', 'Synthetic logistic: 10 items, 5 × 4 features, click ~ Bernoulli(σ(bilinear truth + item effect)), 1 slot.',
          3000, 'logistic', b_sd=0.5, base=-1.5, item_sd=0.3)
    synth('cold-start', 'Cold start with late items: 50 items, 20 of them arriving after 1,500 and 3,000 decisions; 8 context × 6 item '
          'features; logistic truth with a per-item effect; 1 slot.', 6000, 'logistic', K=50, dc=8, di=6, b_sd=0.4, base=-1.5, item_sd=0.3,
          arrivals=lambda K: [0] * 30 + [1500] * 10 + [3000] * 10)
    synth('slate-position', 'Slates with position bias: 20 items, 5 slots with examination weights 1, .75, .55, .4, .3 (click = weight × '
          'σ(truth)); 5 × 4 features.', 3000, 'logistic', K=20, slots=5, weights=(1.0, 0.75, 0.55, 0.4, 0.3), b_sd=0.5, base=-1.0, item_sd=0.3)
    synth('delayed', 'Delayed rewards: the logistic world, each reward arriving after a geometric lag (mean 250 decisions).',
          3000, 'logistic', b_sd=0.5, base=-1.5, item_sd=0.3, lag_mean=250)
    synth('drift', 'Drifting preferences: the logistic world whose truth moves linearly from B0 to an independent B1 over the run.',
          4000, 'logistic', stationary=False, b_sd=0.5, base=-1.5, item_sd=0.3, drift=True)

    def classification(name, description, dataset, T, act_skip, transform=None, relabel=None):
        _, x, y = read_csv_gz(dataset)
        if transform:
            x = transform(x)
        if relabel:
            y = relabel(y)
        x = r4(standardize(x))
        classes = sorted(set(int(v) for v in y))
        meta = {
            'name': name, 'description': description, 'horizon': T, 'slots': 1, 'positionWeights': [1.0],
            'contextDim': x.shape[1], 'itemDim': 2 if act_skip else len(classes), 'stationary': True, 'hasRanker': False, 'delayed': False,
            'source': f'bench/showdown/data/{dataset}.csv.gz (scikit-learn {dataset} dataset, UCI Machine Learning Repository; see SOURCE.md)',
            'licence': 'CC BY 4.0 (UCI Machine Learning Repository)',
            'rows': x.tolist(), 'labels': [int(v) for v in y],
            'reward': {'type': 'act-skip', 'goodClass': 1, 'win': 5, 'loss': -35, 'lossProbability': 0.5} if act_skip else {'type': 'multiclass'},
            'actions': ['act', 'skip'] if act_skip else [f'class-{c}' for c in classes],
        }
        specs[name] = (meta, lambda seed: classification_seed(name, seed=seed, T=T, n_rows=len(y), n_classes=len(classes), act_skip=act_skip))

    classification('wine', 'Classification bandit (wine, 178 samples, 13 standardized features, 3 classes): reward 1 for the true class.',
                   'wine', 2000, False)
    classification('digits', 'Classification bandit (handwritten digits, 1,797 samples, 8×8 pooled to 4×4 = 16 standardized features, '
                   '10 classes): reward 1 for the true class.', 'digits', 3000, False, transform=digits_pooled)
    classification('heavy-tail', 'Heavy-tailed act/skip (breast cancer, 569 samples, 30 standardized features): "act" pays +5 on a benign '
                   'sample and, on a malignant one, −35 or +5 with probability ½ each; "skip" pays 0 (the mushroom bandit\'s rewards).',
                   'breast_cancer', 2000, True)
    classification('heavy-tail-digits', 'Heavy-tailed act/skip on the digits (16 pooled features): "act" pays +5 on a digit 5–9 and, on 0–4, '
                   '−35 or +5 with probability ½ each; "skip" pays 0. About half the contexts are bad, as in the mushroom data.',
                   'digits', 2000, True, transform=digits_pooled, relabel=lambda y: (y >= 5).astype(int))
    specs['obd'] = obd_world(3000)
    return specs


# ---------------------------------------------------------------- environment (mirrors world.ts)

class Env:
    def __init__(self, meta, data):
        self.meta, self.data = meta, data
        self.T = meta['horizon']
        self.weights = np.array(meta['positionWeights'])
        rw = meta['reward']
        self.table = None
        if rw['type'] == 'position-table':
            idx = np.array(data['contextIndex'])
            self.contexts = np.array(meta['contextRows'], dtype=float)[idx]
            self.K = len(data['items'])
            self.arrival = np.zeros(self.K, dtype=int)
            self.table = np.array(meta['tableMeans'])[idx]  # T × item × position
            self.oracle_value = np.array(meta['oracle'])[idx]
            self.mean = self.table[:, :, 0]
        elif rw['type'] == 'bilinear':
            self.contexts = np.array(data['contexts'])
            feats = np.array([it['features'] for it in data['items']])
            self.K = len(feats)
            self.arrival = np.array([it['arrival'] for it in data['items']])
            ft = np.hstack([np.ones((self.K, 1)), feats])
            ct = np.hstack([np.ones((self.T, 1)), self.contexts])
            b0 = np.array(data['B0'])
            eta = ct @ b0 @ ft.T
            if 'B1' in data:
                b1 = np.array(data['B1'])
                s = np.arange(self.T) / (self.T - 1)
                eta = eta + s[:, None] * (ct @ (b1 - b0) @ ft.T)
            eta = eta + np.array(data['itemBias'])[None, :]
            self.mean = 1 / (1 + np.exp(-eta)) if rw['link'] == 'logistic' else eta
        else:
            rows = np.array(meta['rows'])
            idx = np.array(data['rowIndex'])
            self.contexts = rows[idx]
            self.labels = np.array(meta['labels'])[idx]
            self.K = len(meta['actions'])
            self.arrival = np.zeros(self.K, dtype=int)
            if rw['type'] == 'multiclass':
                self.mean = (np.arange(self.K)[None, :] == self.labels[:, None]).astype(float)
            else:
                good = self.labels == rw['goodClass']
                act = np.where(good, rw['win'], rw['win'] * (1 - rw['lossProbability']) + rw['loss'] * rw['lossProbability'])
                self.mean = np.stack([act, np.zeros(self.T)], axis=1)
        if 'items' in data:
            self.item_feats = np.array([it['features'] for it in data['items']], dtype=float)
        else:  # classification: one-hot actions, as the TypeScript runner builds them
            self.item_feats = np.eye(self.K)
        self.noise = np.array(data['noise']) if 'noise' in data else None
        self.lags = np.array(data['lags']) if 'lags' in data else np.zeros(self.T, dtype=int)

    def available(self, t):
        return np.nonzero(self.arrival <= t)[0]

    def realized(self, t, a, j):
        rw = self.meta['reward']
        w = self.weights[j]
        if rw['type'] == 'position-table':
            return 1.0 if self.noise[t, j] < self.table[t, a, j] else 0.0
        if rw['type'] == 'bilinear':
            if rw['link'] == 'logistic':
                return 1.0 if self.noise[t, j] < w * self.mean[t, a] else 0.0
            return w * self.mean[t, a] + rw['noiseSd'] * self.noise[t, j]
        if rw['type'] == 'multiclass':
            return 1.0 if a == self.labels[t] else 0.0
        if a == 1:
            return 0.0
        if self.labels[t] == rw['goodClass']:
            return float(rw['win'])
        return float(rw['loss'] if self.noise[t, 0] < rw['lossProbability'] else rw['win'])

    def regret(self, t, avail, chosen):
        k = len(chosen)
        if self.table is not None:
            return float(self.oracle_value[t] - sum(self.table[t, a, j] for j, a in enumerate(chosen)))
        m = self.mean[t, avail]
        best = np.sort(m)[::-1][:k]
        w = self.weights[:k]
        return float(w @ best - w @ self.mean[t, chosen])

    def optimal(self, t):
        avail = self.available(t)
        return int(avail[np.argmax(self.mean[t, avail])])


# ---------------------------------------------------------------- reference policies

class PerActionNig:
    """LinFullPost: one NIG Bayesian linear regression per action on x = [1, context]."""

    def __init__(self, K, d):
        self.d = d
        self.P = np.tile(np.eye(d) * LAMBDA, (K, 1, 1))
        self.xy = np.zeros((K, d))
        self.yy = np.zeros(K)
        self.n = np.zeros(K)
        self.mu = np.zeros((K, d))
        self.C = np.tile(np.eye(d) / np.sqrt(LAMBDA), (K, 1, 1))  # Cholesky factor of Λn⁻¹
        self.b = np.full(K, B0)

    def update(self, a, x, r):
        self.P[a] += np.outer(x, x)
        self.xy[a] += r * x
        self.yy[a] += r * r
        self.n[a] += 1
        cov = np.linalg.inv(self.P[a])
        cov = (cov + cov.T) / 2
        self.mu[a] = cov @ self.xy[a]
        self.b[a] = B0 + 0.5 * (self.yy[a] - self.mu[a] @ self.P[a] @ self.mu[a])
        self.C[a] = np.linalg.cholesky(cov)

    def means(self, acts, x):
        return self.mu[acts] @ x

    def draw(self, acts, x, rng):
        an = A0 + self.n[acts] / 2
        sigma2 = self.b[acts] / rng.gamma(an)
        z = rng.standard_normal((len(acts), self.d))
        cz = np.einsum('kij,kj->ki', self.C[acts], z)
        return self.mu[acts] @ x + np.sqrt(sigma2) * (cz @ x)


class SharedNig:
    """The NumPy counterpart of libs/bandit's `linear` model: ONE NIG Bayesian linear regression (a0 = b0 = 6, λ = 0.25)
    on the interaction features z = [1, context] ⊗ [1, item features]; one β draw per decision scores every item."""

    def __init__(self, item_feats, d_x):
        self.items = np.hstack([np.ones((len(item_feats), 1)), item_feats])
        self.d = d_x * self.items.shape[1]
        self.P = np.eye(self.d) * LAMBDA
        self.xy = np.zeros(self.d)
        self.yy = 0.0
        self.n = 0
        self.dirty = True

    def z(self, acts, x):
        return np.stack([np.kron(x, self.items[a]) for a in acts])

    def update(self, a, x, r):
        z = np.kron(x, self.items[a])
        self.P += np.outer(z, z)
        self.xy += r * z
        self.yy += r * r
        self.n += 1
        self.dirty = True

    def refresh(self):
        if self.dirty:
            self.L = np.linalg.cholesky(self.P)
            self.mu = np.linalg.solve(self.L.T, np.linalg.solve(self.L, self.xy))
            self.b = B0 + 0.5 * (self.yy - self.mu @ self.P @ self.mu)
            self.dirty = False

    def means(self, acts, x):
        self.refresh()
        return self.z(acts, x) @ self.mu

    def draw(self, acts, x, rng):
        self.refresh()
        sigma2 = self.b / rng.gamma(A0 + self.n / 2)
        beta = self.mu + np.sqrt(sigma2) * np.linalg.solve(self.L.T, rng.standard_normal(self.d))
        return self.z(acts, x) @ beta


def greedy_given_earlier(keys, chosen):
    used = np.zeros(len(keys), dtype=bool)
    out = []
    for c in chosen:
        masked = np.where(used, -np.inf, keys)
        out.append(int(np.argmax(masked)))
        used[c] = True
    return out


def top_k(scores, k):
    return [int(i) for i in np.argsort(-scores, kind='stable')[:k]]


def run_reference(env, policy, seed):
    rng = np.random.default_rng([seed, 7919, {'linfullpost': 1, 'egreedy': 2, 'uniform': 3, 'lints': 4}[policy]])
    T, slots = env.T, env.meta['slots']
    d = env.contexts.shape[1] + 1
    model = SharedNig(env.item_feats, d) if policy == 'lints' else PerActionNig(env.K, d)
    pending = []  # (due, t, action, x, reward)
    cum = 0.0
    checkpoints = []
    explored = np.zeros(T)
    window = min(1000, T // 2)
    last_counts = np.zeros(env.K, dtype=int)
    for t in range(T):
        if pending:
            due = [p for p in pending if p[0] <= t]
            if due:
                pending = [p for p in pending if p[0] > t]
                for _, _, a, x, r in sorted(due, key=lambda p: (p[0], p[1])):
                    model.update(a, x, r)
        avail = env.available(t)
        k = min(slots, len(avail))
        x = np.concatenate([[1.0], env.contexts[t]])
        if policy == 'uniform':
            chosen_local = [int(i) for i in rng.permutation(len(avail))[:k]]
            exp = 0.0
        else:
            means = model.means(avail, x)
            if policy in ('linfullpost', 'lints'):
                chosen_local = top_k(model.draw(avail, x, rng), k)
            elif rng.uniform() < EPSILON:
                chosen_local = [int(i) for i in rng.permutation(len(avail))[:k]]
            else:
                chosen_local = top_k(means, k)
            greedy = greedy_given_earlier(means, chosen_local)
            exp = float(np.mean([c != g for c, g in zip(chosen_local, greedy)]))
        chosen = [int(avail[i]) for i in chosen_local]
        explored[t] = exp
        cum += env.regret(t, avail, chosen)
        if t >= T - window:
            for a in chosen:
                last_counts[a] += 1
        for j, a in enumerate(chosen):
            r = env.realized(t, a, j)
            pending.append((t + 1 + int(env.lags[t]), t, a, x, r))
        if (t + 1) % CHECKPOINT == 0:
            checkpoints.append(round(cum, 6))
    return {
        'regret': round(cum, 6), 'cumulativeRegret': checkpoints,
        'exploreFirst': None if policy == 'uniform' else round(float(explored[:1000].mean()), 6),
        'exploreLast': None if policy == 'uniform' else round(float(explored[-1000:].mean()), 6),
        'lastWindowCounts': last_counts.tolist(),
    }


def write_gz_json(path, obj):
    raw = json.dumps(obj, separators=(',', ':')).encode('utf-8')
    with open(path, 'wb') as f:
        with gzip.GzipFile(filename='', mode='wb', fileobj=f, mtime=0, compresslevel=9) as gz:
            gz.write(raw)


def golden():
    """A tiny world: LinFullPost's per-action observations and final posteriors, for the TypeScript golden test."""
    meta = {'name': 'tiny', 'horizon': 200, 'slots': 1, 'positionWeights': [1.0], 'reward': {'type': 'bilinear', 'link': 'identity', 'noiseSd': 1.0}}
    data = bilinear_world('tiny', seed=11, T=200, K=3, dc=2, di=2, link='identity', noise_sd=1.0, b_sd=0.5)
    env = Env(meta, data)
    model = PerActionNig(env.K, 3)
    rng = np.random.default_rng(5)
    obs = []
    for t in range(env.T):
        x = np.concatenate([[1.0], env.contexts[t]])
        a = int(top_k(model.draw(np.arange(env.K), x, rng), 1)[0])
        r = env.realized(t, a, 0)
        model.update(a, x, r)
        obs.append({'action': a, 'context': env.contexts[t].tolist(), 'reward': r})
    probes = [[0.0, 0.0], [1.0, -0.5], [-2.0, 0.25]]
    out = {
        'description': 'tools/showdown/gen_worlds.py --golden: LinFullPost (per-action NIG, a0=b0=6, λ=0.25, x=[1, context]) on a tiny '
                       'synthetic world; observations in order and the final posterior per action',
        'a0': A0, 'b0': B0, 'lambda': LAMBDA, 'observations': obs, 'probes': probes,
        'posterior': [{
            'n': int(model.n[a]), 'mean': model.mu[a].tolist(), 'an': A0 + model.n[a] / 2, 'bn': float(model.b[a]),
            'probeMeans': [float(model.mu[a] @ np.concatenate([[1.0], p])) for p in probes],
            'probeSd': [float(np.sqrt(np.concatenate([[1.0], p]) @ np.linalg.inv(model.P[a]) @ np.concatenate([[1.0], p]) * model.b[a] / (A0 + model.n[a] / 2 - 1))) for p in probes],
        } for a in range(env.K)],
    }
    os.makedirs(GOLDEN, exist_ok=True)
    with open(os.path.join(GOLDEN, 'linfullpost-tiny.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print('golden written')


def manifest():
    """bench/showdown/MANIFEST.json: SHA-256 and size of every committed data and world file (a unit test checks them)."""
    out = {}
    for sub in ('data', 'worlds'):
        folder = os.path.join(ROOT, 'bench', 'showdown', sub)
        for name in sorted(os.listdir(folder)):
            if name.endswith('.gz'):
                raw = open(os.path.join(folder, name), 'rb').read()
                out[f'{sub}/{name}'] = {'sha256': hashlib.sha256(raw).hexdigest(), 'bytes': len(raw)}
    with open(os.path.join(ROOT, 'bench', 'showdown', 'MANIFEST.json'), 'w') as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write('\n')
    print('manifest written')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--golden', action='store_true')
    ap.add_argument('--manifest', action='store_true')
    ap.add_argument('--only', nargs='*')
    ap.add_argument('--seeds', type=int, help='seeds 1..N (default 5); with --out, for a wider check than the committed worlds')
    ap.add_argument('--out', help='write the world files here and skip the golden file and manifest (the committed ones stay)')
    args = ap.parse_args()
    if args.golden:
        golden()
        return
    if args.manifest:
        manifest()
        return
    out = args.out or OUT
    seed_list = list(range(1, args.seeds + 1)) if args.seeds else SEEDS
    if args.seeds and not args.out:
        ap.error('--seeds needs --out (the committed worlds keep seeds 1-5)')
    os.makedirs(out, exist_ok=True)
    for name, (meta, build) in world_specs().items():
        if args.only and name not in args.only:
            continue
        seeds = []
        for seed in seed_list:
            data = build(seed)
            env = Env(meta, data)
            opt = np.array([env.optimal(t) for t in range(env.T)])
            data['optimalShare'] = [round(float(np.mean(opt == a)), 6) for a in range(env.K)]
            data['references'] = {p: run_reference(env, p, seed) for p in ('linfullpost', 'egreedy', 'uniform', 'lints')}
            seeds.append(data)
            refs = data['references']
            print(f"{name} seed {seed}: " + '  '.join(f"{p} {refs[p]['regret']:.1f}" for p in refs), flush=True)
        write_gz_json(os.path.join(out, f'{name}.json.gz'), {**meta, 'checkpoint': CHECKPOINT, 'seeds': seeds})
    if args.out:
        return
    golden()
    manifest()


if __name__ == '__main__':
    main()
