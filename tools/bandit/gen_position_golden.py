#!/usr/bin/python3
"""Golden values for the linear model's position-based click model (libs/bandit models/linear.ts, positionModel 'pbm').

    /usr/bin/python3 tools/bandit/gen_position_golden.py    # writes libs/bandit/src/__golden__/position.json

A seeded slate log from a position-based model (Craswell et al. 2008; Chuklin, Markov & de Rijke 2015): slot k is
examined with probability kappa_k, an examined item is clicked with probability sigmoid(relevance). The log's sums per
slot (X_k^T X_k, X_k^T y, y_k^T y_k) give the examination estimate by alternating least squares, starting from kappa = 1.
Slot k's row is the regressor kappa_k x with noise variance kappa_k s2 (weight 1/kappa_k: a click model's reward
variance shrinks with examination; PBM-UCB's effective views sum_k kappa_k n_k, Lagree, Vernade & Cappe 2016):
  Lambda = lambda I + sum_k kappa_k X_k^T X_k,  b = sum_k X_k^T y,  mu = Lambda^-1 b
  kappa_k = clip((mu^T X_k^T y / s2 + 1/tau^2) / (mu^T X_k^T X_k mu / s2 + 1/tau^2), 0.05, 1),
  s2 = bn/an (the posterior noise estimate at the current kappa), tau = 0.25
(kappa_0 = 1), 30 rounds (libs/bandit KAPPA_ROUNDS: ALS contracts slowly, ~x0.8 per round), then mu with the final kappa; bn = b0 + (sum_k y_k^T y_k / kappa_k - mu^T b) / 2, an = a0 + n/2.
"""
import json
import os

import numpy as np

LAMBDA, A0, B0 = 0.25, 6.0, 6.0
KAPPA_MIN, TAU, ROUNDS = 0.05, 0.25, 30


def features(context, item):
    """[1, context] (x) [1, item], row-major (libs/bandit features.ts 'interaction')."""
    return np.kron(np.concatenate([[1.0], context]), np.concatenate([[1.0], item]))


def main():
    rng = np.random.default_rng(20261129)
    n_items, slots, C, m = 12, 4, 2, 2
    true_kappa = np.array([1.0, 0.7, 0.45, 0.25])
    items = rng.normal(size=(n_items, m)).round(3)
    beta = rng.normal(size=(C + 1) * (m + 1)) * 0.8
    rows = []
    for _ in range(400):
        context = rng.normal(size=C).round(3)
        shown = rng.permutation(n_items)[:slots]
        for k, a in enumerate(shown):
            x = features(context, items[a])
            p = true_kappa[k] / (1 + np.exp(-(x @ beta)))
            y = float(rng.random() < p)
            rows.append({'context': context.tolist(), 'item': int(a), 'slot': k, 'reward': y})
    d = (C + 1) * (m + 1)
    X = np.array([features(np.array(r['context']), items[r['item']]) for r in rows])
    y = np.array([r['reward'] for r in rows])
    k = np.array([r['slot'] for r in rows])
    XX = X.T @ X
    xy = X.T @ y
    XXk = {s: X[k == s].T @ X[k == s] for s in range(1, slots)}
    xyk = {s: X[k == s].T @ y[k == s] for s in range(1, slots)}
    n = len(rows)

    yyk = {s: float(y[k == s] @ y[k == s]) for s in range(1, slots)}

    def weighted_yy(kappa):
        # slot k's noise variance is kappa_k s2 (weight 1/kappa_k): sum_k y_k^T y_k / kappa_k
        return float(y @ y) + sum((1 / kappa[s] - 1) * yyk[s] for s in yyk)

    def posterior(kappa):
        # regressor kappa_k x with weight 1/kappa_k: Lambda = lambda I + sum_k kappa_k X_k^T X_k, b = X^T y
        lam = LAMBDA * np.eye(d) + XX + sum((kappa[s] - 1) * XXk[s] for s in XXk)
        b = xy
        return np.linalg.solve(lam, b), b

    an = A0 + n / 2
    kappa = {s: 1.0 for s in XXk}
    for _ in range(ROUNDS):
        mu, b = posterior(kappa)
        s2 = (B0 + 0.5 * max(0.0, weighted_yy(kappa) - float(mu @ b))) / an
        prior = 1 / TAU ** 2
        kappa = {s: float(np.clip((mu @ xyk[s] / s2 + prior) / (mu @ XXk[s] @ mu / s2 + prior), KAPPA_MIN, 1.0)) for s in XXk}
    mu, b = posterior(kappa)
    bn = B0 + 0.5 * max(0.0, weighted_yy(kappa) - float(mu @ b))
    # without the position model (every slot alike): the plain ridge posterior mean
    mu_none = np.linalg.solve(LAMBDA * np.eye(d) + XX, xy)
    # error of the predicted relevance P(click | examined) = x^T mu against the truth sigmoid(x^T beta), over the log
    truth = 1 / (1 + np.exp(-(X @ beta)))
    mae = float(np.mean(np.abs(X @ mu - truth)))
    mae_none = float(np.mean(np.abs(X @ mu_none - truth)))
    out = {
        'description': 'tools/bandit/gen_position_golden.py: PBM examination by alternating least squares on a seeded slate log',
        'prior': {'lambda': LAMBDA, 'a0': A0, 'b0': B0}, 'contextDim': C, 'itemDim': m, 'items': items.tolist(),
        'trueKappa': true_kappa.tolist(), 'rows': rows,
        'kappa': [1.0] + [kappa[s] for s in range(1, slots)], 'mean': mu.tolist(), 'an': A0 + n / 2, 'bn': bn,
        'meanWithoutPositionModel': mu_none.tolist(), 'trueBeta': beta.tolist(),
        'relevanceMae': mae, 'relevanceMaeWithoutPositionModel': mae_none,
    }
    path = os.path.join(os.path.dirname(__file__), '..', '..', 'libs', 'bandit', 'src', '__golden__', 'position.json')
    with open(path, 'w') as f:
        json.dump(out, f)
        f.write('\n')
    print('kappa', out['kappa'], 'true', true_kappa.tolist(), 'relevance MAE', mae, 'without', mae_none)


if __name__ == '__main__':
    main()
