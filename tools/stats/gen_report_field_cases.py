#!/usr/bin/python3
"""Golden file for the report's field cases of issue 14 ("Statistics that hold on awkward data"), generated with
SciPy / statsmodels / NumPy.

Run with Debian's interpreter:

    /usr/bin/python3 tools/stats/gen_report_field_cases.py

Writes apps/api/src/modules/reports/__golden__/report-field-cases.json. Each experiment lists its units, their
events (value, metric, seconds after the unit's exposure: negative = before it) and the numbers expected from the
unit-level arrays; test/report-field-cases.e2e-spec.ts posts the units and events through the public API with
timestamps relative to the time of the test run (the values do not depend on time) and asserts the report:

  - negative-baseline: a "net margin" guardrail with control [-12, -8] and treatment [-7, -3]: relative lift
    (mt - mc)/|mc| = +0.5 with its delta-method CI, chance to beat 0.9614500641282291 (absolute scale), no rollback;
  - large-values: control [1e9, 1e9 + 1], treatment [1e9 + 1, 1e9 + 2] (and the same at 1e8 and 1e6): sd
    0.7071067811865476 per arm, Welch p 0.29289321881345254; a ratio metric and CUPED at the same offset;
  - peeking: 253 units of a running experiment where the fixed-horizon test says "worse" and the always-valid
    p-value does not: the recommendation keeps running on the always-valid basis.
"""
import json
import math
import os
import sys

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'apps', 'api', 'src', 'modules', 'reports', '__golden__', 'report-field-cases.json')
ALPHA = 0.05
TUNING_N = 5000
Z = stats.norm.ppf(1 - ALPHA / 2)


def welch(c, t):
    res = stats.ttest_ind(t, c, equal_var=False)
    cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    lo, hi = cm.tconfint_diff(alpha=ALPHA, usevar='unequal')
    return {'absoluteLift': float(t.mean() - c.mean()), 'pValue': float(res.pvalue), 'ci': {'lower': float(lo), 'upper': float(hi)},
            'standardError': math.sqrt(t.var(ddof=1) / t.size + c.var(ddof=1) / c.size)}


def relative(c, t):
    mc, mt = c.mean(), t.mean()
    vc, vt = c.var(ddof=1) / c.size, t.var(ddof=1) / t.size
    if mc * mc <= Z * Z * vc:  # Fieller: the ratio's confidence set is unbounded
        return None
    g = np.array([1 / abs(mc), -np.sign(mc) * mt / mc ** 2])
    se = math.sqrt(g @ np.diag([vt, vc]) @ g)
    lift = (mt - mc) / abs(mc)
    return {'relativeLift': lift, 'relativeCi': {'lower': lift - Z * se, 'upper': lift + Z * se}, 'relativePValue': float(2 * stats.norm.sf(abs(lift) / se))}


def bayes_absolute(c, t, higher=True):
    d = t.mean() - c.mean()
    se = math.sqrt(t.var(ddof=1) / t.size + c.var(ddof=1) / c.size)
    m = d if higher else -d
    return {'chanceToBeatBaseline': float(stats.norm.sf(0, loc=m, scale=se)),
            'expectedLoss': float(se * stats.norm.pdf(m / se) - m * stats.norm.cdf(-m / se))}


def msprt(c, t):
    diff = t.mean() - c.mean()
    V = t.var(ddof=1) / t.size + c.var(ddof=1) / c.size
    N = t.size + c.size
    l = -2 * math.log(ALPHA)
    tau2 = (l + math.log(1 + l)) / TUNING_N * N * V
    lam = math.sqrt(V / (V + tau2)) * math.exp(diff ** 2 * tau2 / (2 * V * (V + tau2)))
    half = math.sqrt(V * (V + tau2) / tau2 * (2 * math.log(1 / ALPHA) + math.log((V + tau2) / V)))
    return {'pValue': min(1.0, 1 / lam), 'ci': {'lower': diff - half, 'upper': diff + half}}


def arm_stats(a):
    return {'units': int(a.size), 'mean': float(a.mean()), 'stdDev': float(a.std(ddof=1)), 'sum': float(a.sum())}


def plain_expected(c, t, higher=True):
    out = {'control': arm_stats(c), 'treatment': arm_stats(t), **welch(c, t), **bayes_absolute(c, t, higher), 'sequential': msprt(c, t)}
    rel = relative(c, t)
    out.update(rel if rel else {'relativeLift': None, 'relativeCi': None, 'relativePValue': None})
    return out


def ratio_expected(cn, cd, tn, td):
    def one(num, den):
        # delta method in its linearised form Var(N - R D) / (n mean(D)^2): the gradient . covariance . gradient
        # form cancels catastrophically when N is about R D per unit at R = 1e9 (checked equal where it does not)
        r = num.sum() / den.sum()
        lin = float(np.var(num - r * den, ddof=1)) / (num.size * den.mean() ** 2)
        shifted = num - 1e9 * den  # the same data without the offset: the textbook form is exact there
        mu = np.array([shifted.mean(), den.mean()])
        g = np.array([1.0 / mu[1], -mu[0] / mu[1] ** 2])
        assert abs(float(g @ (np.cov(np.vstack([shifted, den]), ddof=1) / num.size) @ g) - lin) <= 1e-6 * lin  # R = ΣN/ΣD itself is rounded at 1e-16 x 1e9
        return r, lin
    rc, vc = one(cn, cd)
    rt, vt = one(tn, td)
    se = math.sqrt(vc + vt)
    return {'control': {'mean': rc, 'stdDev': math.sqrt(cn.size * vc)}, 'treatment': {'mean': rt, 'stdDev': math.sqrt(tn.size * vt)},
            'absoluteLift': rt - rc, 'pValue': float(2 * stats.norm.sf(abs(rt - rc) / se)), 'ci': {'lower': rt - rc - Z * se, 'upper': rt - rc + Z * se}}


def cuped_expected(yc, xc, yt, xt):
    num = ((xc - xc.mean()) * (yc - yc.mean())).sum() + ((xt - xt.mean()) * (yt - yt.mean())).sum()
    den = ((xc - xc.mean()) ** 2).sum() + ((xt - xt.mean()) ** 2).sum()
    theta = num / den
    xbar = np.concatenate([xc, xt]).mean()
    ac, at = yc - theta * (xc - xbar), yt - theta * (xt - xbar)
    w = welch(ac, at)
    return {'theta': float(theta), 'absoluteLift': w['absoluteLift'], 'pValue': w['pValue'], 'ci': w['ci']}


def main():
    cases = {}

    # 1. negative baseline (a "net margin" guardrail; the primary metric has no events yet)
    c, t = np.array([-12.0, -8.0]), np.array([-7.0, -3.0])
    cases['negative-baseline'] = {
        'experiment': {'key': 'field-negative', 'name': 'Net margin guardrail', 'kind': 'ab', 'assignment': 'external',
                       'variants': [{'key': 'control', 'weight': 1, 'config': {}}, {'key': 'treatment', 'weight': 1, 'config': {}}],
                       'metrics': {'primary': 'field-orders', 'guardrails': ['field-net-margin'], 'secondary': []}},
        'metricDefinitions': [{'key': 'field-net-margin', 'name': 'Net margin', 'type': 'sum', 'direction': 'increase', 'guardrailMargin': 0.01}],
        'units': [{'unitId': f'neg-{v}-{i}', 'variant': v, 'events': [{'metric': 'field-net-margin', 'value': float(x), 'afterSeconds': 60}]}
                  for v, a in (('control', c), ('treatment', t)) for i, x in enumerate(a)],
        'expected': {'field-net-margin': plain_expected(c, t)},
    }

    # 2. large values, small spread: plain metrics at 1e9, 1e8, 1e6; a ratio metric and CUPED at 1e9
    units = []
    values = {}
    offsets = {'field-big9': 1e9, 'field-big8': 1e8, 'field-big6': 1e6}
    pre = {'control': [1e9 + 3, 1e9 + 1], 'treatment': [1e9, 1e9 + 4]}
    visits = {'control': [1.0, 2.0], 'treatment': [2.0, 1.0]}
    per_visit = {'control': [0.0, 3.0], 'treatment': [2.0, 2.0]}  # field-big-per-visit = 1e9 x visits + these
    spread = {'control': [0.0, 1.0], 'treatment': [1.0, 2.0]}
    for v in ('control', 'treatment'):
        for i in range(2):
            ev = [{'metric': m, 'value': off + spread[v][i], 'afterSeconds': 60} for m, off in offsets.items()]
            ev.append({'metric': 'field-big9', 'value': pre[v][i], 'afterSeconds': -3600})  # CUPED covariate (look-back)
            ev.append({'metric': 'field-visits', 'value': visits[v][i], 'afterSeconds': 90})
            ev.append({'metric': 'field-big-per-visit', 'value': 1e9 * visits[v][i] + per_visit[v][i], 'afterSeconds': 120})
            units.append({'unitId': f'big-{v}-{i}', 'variant': v, 'events': ev})
    arr = lambda v, m: np.array([off + s for s in spread[v]]) if (off := offsets.get(m)) is not None else None
    expected = {m: plain_expected(arr('control', m), arr('treatment', m)) for m in offsets}
    yc, yt = arr('control', 'field-big9'), arr('treatment', 'field-big9')
    num = {v: np.array([1e9 * d + s for d, s in zip(visits[v], per_visit[v])]) for v in visits}
    expected['field-big-ratio'] = ratio_expected(num['control'], np.array(visits['control']), num['treatment'], np.array(visits['treatment']))
    expected['cuped'] = {'field-big9': cuped_expected(yc, np.array(pre['control']), yt, np.array(pre['treatment']))}
    cases['large-values'] = {
        'experiment': {'key': 'field-large', 'name': 'Large values', 'kind': 'ab', 'assignment': 'external',
                       'variants': [{'key': 'control', 'weight': 1, 'config': {}}, {'key': 'treatment', 'weight': 1, 'config': {}}],
                       'metrics': {'primary': 'field-big9', 'guardrails': [], 'secondary': ['field-big8', 'field-big6', 'field-big-ratio']}},
        'metricDefinitions': [{'key': 'field-big-ratio', 'name': 'Big per visit', 'type': 'ratio', 'numerator': 'field-big-per-visit', 'denominator': 'field-visits', 'direction': 'increase'}],
        'units': units,
        'expected': expected,
    }

    # 3. peeking: 253 units, the fixed-horizon test says worse, the always-valid p-value does not
    rng = np.random.default_rng(253)
    c = np.round(rng.normal(10.0, 3.0, 127), 2)
    t = np.round(rng.normal(9.1, 3.0, 126), 2)
    exp = plain_expected(c, t)
    assert exp['pValue'] < ALPHA and exp['sequential']['pValue'] > ALPHA and exp['ci']['upper'] < 0, exp
    cases['peeking'] = {
        'experiment': {'key': 'field-peeking', 'name': 'Peeking', 'kind': 'ab', 'assignment': 'external',
                       'variants': [{'key': 'control', 'weight': 1, 'config': {}}, {'key': 'treatment', 'weight': 1, 'config': {}}],
                       'metrics': {'primary': 'field-score', 'guardrails': [], 'secondary': []}},
        'metricDefinitions': [],
        'units': [{'unitId': f'peek-{v}-{i}', 'variant': v, 'events': [{'metric': 'field-score', 'value': float(x), 'afterSeconds': 30}]}
                  for v, a in (('control', c), ('treatment', t)) for i, x in enumerate(a)],
        'expected': {'field-score': exp},
    }

    doc = {'generator': 'tools/stats/gen_report_field_cases.py', 'python': sys.version.split()[0], 'numpy': np.__version__,
           'scipy': scipy.__version__, 'statsmodels': statsmodels.__version__, 'alpha': ALPHA, 'tuningN': TUNING_N, 'cases': cases}
    with open(OUT, 'w') as fh:
        json.dump(doc, fh, indent=1)
        fh.write('\n')
    for k, v in cases.items():
        for m, e in v['expected'].items():
            print(k, m, {x: e.get(x) for x in ('pValue', 'relativeLift', 'chanceToBeatBaseline')}, e.get('sequential', {}).get('pValue'), e.get('control', {}).get('stdDev'))


if __name__ == '__main__':
    main()
