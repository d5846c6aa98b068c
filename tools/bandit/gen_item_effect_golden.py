#!/usr/bin/python3
"""Golden values for the linear model's per-item effect (libs/bandit models/linear.ts, itemEffect 'intercept').

    /usr/bin/python3 tools/bandit/gen_item_effect_golden.py    # writes libs/bandit/src/__golden__/item-effect.json

A seeded 3-slot log from a position-based click model in which items 0, 1 and 2 share the SAME features (as the OBD
replay's item-03, item-17 and item-21) but differ in a per-item intercept the features cannot express. The shared
posterior (examination kappa by alternating least squares, as tools/bandit/gen_position_golden.py) is computed from the
rows, then each item's random intercept delta_a | s2 ~ N(0, s2 / lambda_d), fitted on its residuals around the shared
posterior mean mu (two-stage empirical Bayes), with the row's examination kappa_k:
  N_a = sum_rows(a) kappa_k,  W_a = sum_rows(a) (y - kappa_k x^T mu)   (regressor kappa_k, weight 1/kappa_k),
  tau2 = (sum_a W_a^2 / N_a - s2 * #{a: N_a > 0}) / sum_a N_a  (method of moments, s2 = bn/an),
  lambda_d = clip(s2 / tau2, 1, 100)  (100 when tau2 <= 0),
  P_a = lambda_d + N_a,   m_a = W_a / P_a,
per-item noise scale c_a^2 = E_a / (bn/an), E_a = (a0 bn/an + RSS_a/2) / (a0 + n_a/2), RSS_a = y_a^T y_a - y_a^T C_a
(C_a^T C_a + lambda I)^-1 C_a^T y_a (LinFullPost's per-action quantity of the item's own ridge regression on its rows'
C_a = [1, context]),
and for a probe context the score mean x_a^T mu + m_a and the unit-variance score covariance
  S = D X Lambda^-1 X^T D + diag(c_a^2 / P_a)   (D = diag c),  Lambda = lambda I + sum_k kappa_k X_k^T X_k.
With itemEffect 'twins' (the default) only the probe's feature twins (items with equal feature vectors: 0, 1, 2) keep
their m_a and c_a^2 / P_a (lambda_d still estimated over all 8 items); the others get 0 ('twins*' keys).
Everything is computed from the rows directly (not from the sums the TypeScript keeps).
"""
import json
import os

import numpy as np

LAMBDA, A0, B0 = 0.25, 6.0, 6.0
KAPPA_MIN, TAU, ROUNDS = 0.05, 0.25, 30
LAMBDA_ITEM_MIN, LAMBDA_ITEM_MAX = 1.0, 100.0


def features(context, item):
    """[1, context] (x) [1, item], row-major (libs/bandit features.ts 'interaction')."""
    return np.kron(np.concatenate([[1.0], context]), np.concatenate([[1.0], item]))


def main():
    rng = np.random.default_rng(20261217)
    n_items, slots, C, m = 8, 3, 2, 2
    true_kappa = np.array([1.0, 0.6, 0.35])
    items = rng.normal(size=(n_items, m)).round(3)
    items[1] = items[0]
    items[2] = items[0]
    # the twins differ only here: item 1 is the best of the three, item 2 the worst
    item_effect = np.zeros(n_items)
    item_effect[1], item_effect[2] = 1.2, -1.2
    beta = rng.normal(size=(C + 1) * (m + 1)) * 0.6
    rows = []
    for _ in range(500):
        context = rng.normal(size=C).round(3)
        shown = rng.permutation(n_items)[:slots]
        for k, a in enumerate(shown):
            x = features(context, items[a])
            p = true_kappa[k] / (1 + np.exp(-(x @ beta + item_effect[a])))
            rows.append({'context': context.tolist(), 'item': int(a), 'slot': k, 'reward': float(rng.random() < p)})
    d = (C + 1) * (m + 1)
    X = np.array([features(np.array(r['context']), items[r['item']]) for r in rows])
    y = np.array([r['reward'] for r in rows])
    k = np.array([r['slot'] for r in rows])
    a_of = np.array([r['item'] for r in rows])
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
        return np.linalg.solve(lam, b), b, lam

    an = A0 + n / 2
    kappa = {s: 1.0 for s in XXk}
    for _ in range(ROUNDS):
        mu, b, _ = posterior(kappa)
        s2 = (B0 + 0.5 * max(0.0, weighted_yy(kappa) - float(mu @ b))) / an
        prior = 1 / TAU ** 2
        kappa = {s: float(np.clip((mu @ xyk[s] / s2 + prior) / (mu @ XXk[s] @ mu / s2 + prior), KAPPA_MIN, 1.0)) for s in XXk}
    mu, b, lam = posterior(kappa)
    bn = B0 + 0.5 * max(0.0, weighted_yy(kappa) - float(mu @ b))
    kap = np.array([1.0] + [kappa[s] for s in range(1, slots)])
    kr = kap[k]
    fit = X @ mu
    N = np.array([float(np.sum(kr[a_of == a])) for a in range(n_items)])
    W = np.array([float(np.sum(y[a_of == a] - kr[a_of == a] * fit[a_of == a])) for a in range(n_items)])
    s2 = bn / an
    seen = N > 0
    tau2 = (np.sum(W[seen] ** 2 / N[seen]) - s2 * seen.sum()) / N.sum()
    lam_item = float(np.clip(s2 / tau2, LAMBDA_ITEM_MIN, LAMBDA_ITEM_MAX)) if tau2 > 0 else LAMBDA_ITEM_MAX
    effect_mean, effect_var, scale = [], [], []
    for a in range(n_items):
        sel = a_of == a
        P = lam_item + N[a]
        Ca = np.array([[1.0] + rows[t]['context'] for t in np.flatnonzero(sel)])
        rss = float(y[sel] @ y[sel] - y[sel] @ Ca @ np.linalg.solve(Ca.T @ Ca + LAMBDA * np.eye(C + 1), Ca.T @ y[sel]))
        e = (A0 * bn / an + 0.5 * rss) / (A0 + sel.sum() / 2)
        c2 = e / (bn / an)
        effect_mean.append(float(W[a] / P))
        effect_var.append(c2 / P)
        scale.append(float(np.sqrt(c2)))
    probe = np.array([0.4, -0.7])
    Xp = np.array([features(probe, items[a]) for a in range(n_items)])
    D = np.diag(scale)
    cov = D @ Xp @ np.linalg.solve(lam, Xp.T) @ D + np.diag(effect_var)
    score_mean = Xp @ mu + np.array(effect_mean)
    score_sd = np.sqrt(np.diag(cov) * bn / (an - 1))
    keys = [tuple(items[a]) for a in range(n_items)]
    twins = [a for a in range(n_items) if keys.count(keys[a]) > 1]
    tmask = np.array([1.0 if a in twins else 0.0 for a in range(n_items)])
    cov_twins = D @ Xp @ np.linalg.solve(lam, Xp.T) @ D + np.diag(np.array(effect_var) * tmask)
    twins_out = {'twins': twins, 'twinsScoreMean': (Xp @ mu + np.array(effect_mean) * tmask).tolist(),
                 'twinsCovariance': cov_twins.ravel().tolist(),
                 'twinsScoreSd': np.sqrt(np.diag(cov_twins) * bn / (an - 1)).tolist()}
    out = {
        'description': 'tools/bandit/gen_item_effect_golden.py: per-item random intercepts on a PBM slate log with feature twins (items 0, 1, 2)',
        'prior': {'lambda': LAMBDA, 'a0': A0, 'b0': B0, 'itemEffectPrecision': LAMBDA_ITEM_MIN, 'itemEffectPrecisionMax': LAMBDA_ITEM_MAX},
        'tau2': float(tau2), 'lambdaItem': lam_item, 'contextDim': C, 'itemDim': m,
        'items': items.tolist(), 'trueItemEffect': item_effect.tolist(), 'rows': rows,
        'kappa': kap.tolist(), 'an': an, 'bn': bn,
        'effectMean': effect_mean, 'effectVariance': effect_var, 'noiseScale': scale,
        'probe': probe.tolist(), 'scoreMean': score_mean.tolist(), 'scoreMeanWithoutItemEffect': (Xp @ mu).tolist(),
        'covariance': cov.ravel().tolist(), 'scoreSd': score_sd.tolist(), **twins_out,
    }
    path = os.path.join(os.path.dirname(__file__), '..', '..', 'libs', 'bandit', 'src', '__golden__', 'item-effect.json')
    with open(path, 'w') as f:
        json.dump(out, f)
        f.write('\n')
    print('tau2', tau2, 'lambda_d', lam_item, 'kappa', out['kappa'], 'twin effects', effect_mean[:3], 'twin score means', score_mean[:3].tolist())


if __name__ == '__main__':
    main()
