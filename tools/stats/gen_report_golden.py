#!/usr/bin/python3
"""Golden file for the experiment report API (GET /v1/experiments/{key}/report), generated with SciPy /
statsmodels / NumPy.

Run with Debian's interpreter (the pyenv `python3` on PATH lacks SciPy):

    /usr/bin/python3 tools/stats/gen_report_golden.py

Writes apps/api/src/modules/reports/__golden__/report-golden.json holding
  - an imported experiment (external assignment): its definition, metric definitions, and the exposures and
    events generated here deterministically (seeded NumPy), which test/report.e2e-spec.ts posts through
    POST /v1/exposures and POST /v1/events;
  - the report numbers expected for it, computed here from the unit-level arrays: per-variant units / sum /
    mean / standard deviation, Welch p-value and CI (scipy.stats.ttest_ind(equal_var=False), statsmodels
    CompareMeans.tconfint_diff(usevar='unequal')), the relative lift with its delta-method CI (NumPy gradient ·
    covariance · gradient), SRM (scipy.stats.chisquare), Holm and BH adjusted p-values across every comparison
    (statsmodels multipletests), Bayesian chance to beat / expected loss (normal formulas, loss checked with
    scipy.integrate.quad), the mSPRT always-valid p-value and interval, and CUPED (unit-level adjusted arrays);
  - power / MDE cases for POST /v1/stats/power (statsmodels NormalIndPower, solved with brentq at 1e-15).
The e2e test asserts every number to 1e-6 relative.
"""
import json
import math
import os
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
import scipy
import statsmodels
from scipy import integrate, optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'apps', 'api', 'src', 'modules', 'reports', '__golden__', 'report-golden.json')
ALPHA = 0.05
TUNING_N = 5000
T0 = datetime(2025, 3, 3, 0, 0, 0, tzinfo=timezone.utc)
KEY = 'imported-golden'
VARIANTS = ['control', 'b', 'c']
UNITS = {'control': 131, 'b': 112, 'c': 97}
METRICS = ['revenue', 'clicks']


def iso(t):
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + f'{t.microsecond // 1000:03d}Z'


def f(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def generate():
    rng = np.random.default_rng(20250303)
    exposures, events = [], []
    units = {v: [] for v in VARIANTS}
    eid = 0

    def event(unit, metric, value, t):
        nonlocal eid
        eid += 1
        events.append({'unitId': unit, 'metric': metric, 'value': value, 'timestamp': iso(t), 'eventId': f'g-{eid}'})

    lift = {'control': 1.0, 'b': 1.45, 'c': 0.95}
    click_rate = {'control': 1.2, 'b': 1.5, 'c': 1.2}
    for v in VARIANTS:
        for i in range(UNITS[v]):
            unit = f'{v}-u{i:04d}'
            first = T0 + timedelta(seconds=int(rng.integers(0, 3 * 86400)))
            country = 'de' if rng.random() < 0.4 else 'us'
            exposures.append({'experiment': KEY, 'unitId': unit, 'variant': v, 'timestamp': iso(first), 'attributes': {'country': country}})
            # a unit propensity that drives both pre- and post-exposure revenue (CUPED covariate)
            propensity = float(rng.gamma(2.0, 1.0))
            pre = rng.poisson(0.6 * propensity)
            for _ in range(pre):
                event(unit, 'revenue', round(float(rng.gamma(2.0, 5.0)), 2), first - timedelta(seconds=int(rng.integers(1, 13 * 86400))))
            # older than the 14-day look-back: never counted
            if rng.random() < 0.2:
                event(unit, 'revenue', 99.0, first - timedelta(days=20))
            post = rng.poisson(0.7 * propensity * lift[v])
            for _ in range(post):
                event(unit, 'revenue', round(float(rng.gamma(2.0, 5.0)), 2), first + timedelta(seconds=int(rng.integers(1, 5 * 86400))))
            for _ in range(rng.poisson(click_rate[v])):
                event(unit, 'clicks', 1.0, first + timedelta(seconds=int(rng.integers(1, 5 * 86400))))
            units[v].append(unit)
    # a unit reported in two variants: kept out of the analysis, counted as a multiple exposure
    for v in ['control', 'b']:
        exposures.append({'experiment': KEY, 'unitId': 'both-variants', 'variant': v, 'timestamp': iso(T0 + timedelta(hours=1))})
    event('both-variants', 'revenue', 500.0, T0 + timedelta(hours=2))
    # a unit never exposed: its events are ignored
    event('never-exposed', 'revenue', 1000.0, T0 + timedelta(hours=3))
    # a duplicate event id (a retry): stored once
    events.append(dict(events[5]))
    return exposures, events


def unit_values(exposures, events, metric, pre=False):
    """Per-variant arrays of the unit metric value (sum of events from first exposure on; `pre`: the 14 days before)."""
    first = {}
    variants_of = {}
    for x in exposures:
        variants_of.setdefault(x['unitId'], set()).add(x['variant'])
        first[(x['unitId'], x['variant'])] = datetime.fromisoformat(x['timestamp'].replace('Z', '+00:00'))
    seen = set()
    totals = {}
    for e in events:
        if e['eventId'] in seen:
            continue
        seen.add(e['eventId'])
        if e['metric'] != metric:
            continue
        totals.setdefault(e['unitId'], []).append((datetime.fromisoformat(e['timestamp'].replace('Z', '+00:00')), e['value']))
    out = {v: [] for v in VARIANTS}
    for unit, vs in variants_of.items():
        if len(vs) != 1:
            continue
        v = next(iter(vs))
        t0 = first[(unit, v)]
        if pre:
            val = sum(x for t, x in totals.get(unit, []) if t0 - timedelta(days=14) <= t < t0)
        else:
            val = sum(x for t, x in totals.get(unit, []) if t >= t0)
        out[v].append(val)
    return {v: np.asarray(a, dtype=float) for v, a in out.items()}


def welch(c, t):
    res = stats.ttest_ind(t, c, equal_var=False)
    lo, hi = CompareMeans(DescrStatsW(t), DescrStatsW(c)).tconfint_diff(alpha=ALPHA, usevar='unequal')
    return float(t.mean() - c.mean()), float(res.pvalue), float(lo), float(hi)


def relative(c, t):
    """(mt - mc) / |mc| with its delta-method se (gradient . covariance . gradient), CI and two-sided p."""
    mc, mt = c.mean(), t.mean()
    grad = np.array([1 / abs(mc), -np.sign(mc) * mt / mc ** 2])  # d((mt - mc)/|mc|)/d(mt, mc)
    cov = np.diag([t.var(ddof=1) / t.size, c.var(ddof=1) / c.size])
    se = math.sqrt(grad @ cov @ grad)
    lift = (mt - mc) / abs(mc)
    z = stats.norm.ppf(1 - ALPHA / 2)
    return lift, se, lift - z * se, lift + z * se, float(2 * stats.norm.sf(abs(lift) / se))


def bayes(c, t):
    """Chance to beat and expected loss on the absolute scale: difference ~ N(mt - mc, Var_t/n_t + Var_c/n_c)."""
    lift = t.mean() - c.mean()
    se = math.sqrt(t.var(ddof=1) / t.size + c.var(ddof=1) / c.size)
    u = lift / se
    chance = stats.norm.cdf(u)
    loss = se * stats.norm.pdf(u) - lift * stats.norm.cdf(-u)
    quad = integrate.quad(lambda d: max(0.0, -d) * stats.norm.pdf(d, lift, se), lift - 12 * se, lift + 12 * se, points=[0.0], limit=200)[0]
    assert abs(quad - loss) <= 1e-8 * max(1e-12, abs(loss)) + 1e-15, (quad, loss)
    return chance, loss


def msprt(c, t):
    diff = t.mean() - c.mean()
    V = t.var(ddof=1) / t.size + c.var(ddof=1) / c.size
    N = t.size + c.size
    l = -2 * math.log(ALPHA)
    rho2 = (l + math.log(1 + l)) / TUNING_N
    tau2 = rho2 * N * V
    lam = math.sqrt(V / (V + tau2)) * math.exp(diff ** 2 * tau2 / (2 * V * (V + tau2)))
    p = min(1.0, 1 / lam)
    half = math.sqrt(V * (V + tau2) / tau2 * (2 * math.log(1 / ALPHA) + math.log((V + tau2) / V)))
    return p, diff - half, diff + half


def cuped(ys, xs, baseline, treatment):
    num = sum(((xs[v] - xs[v].mean()) * (ys[v] - ys[v].mean())).sum() for v in (baseline, treatment))
    den = sum(((xs[v] - xs[v].mean()) ** 2).sum() for v in (baseline, treatment))
    theta = num / den if den > 0 else 0.0  # no covariate variance: CUPED = the plain test
    xbar = np.concatenate([xs[baseline], xs[treatment]]).mean()
    adj = {v: ys[v] - theta * (xs[v] - xbar) for v in (baseline, treatment)}
    diff, p, lo, hi = welch(adj[baseline], adj[treatment])
    before = ys[baseline].var(ddof=1) / ys[baseline].size + ys[treatment].var(ddof=1) / ys[treatment].size
    after = adj[baseline].var(ddof=1) / adj[baseline].size + adj[treatment].var(ddof=1) / adj[treatment].size
    return {'theta': theta, 'absoluteLift': diff, 'pValue': p, 'ci': {'lower': lo, 'upper': hi}, 'varianceReduction': 1 - after / before}


def main():
    exposures, events = generate()
    observed = {v: 0 for v in VARIANTS}
    metrics_out = []
    comparisons = []
    for m in METRICS:
        ys = unit_values(exposures, events, m)
        xs = unit_values(exposures, events, m, pre=True)
        variants = [{'variant': v, 'units': int(ys[v].size), 'sum': float(ys[v].sum()), 'mean': float(ys[v].mean()), 'stdDev': float(ys[v].std(ddof=1))} for v in VARIANTS]
        for v in VARIANTS:
            observed[v] = int(ys[v].size)
        comps = []
        for v in VARIANTS[1:]:
            diff, p, lo, hi = welch(ys['control'], ys[v])
            lift, se, rlo, rhi, rp = relative(ys['control'], ys[v])
            chance, loss = bayes(ys['control'], ys[v])
            sp, slo, shi = msprt(ys['control'], ys[v])
            comp = {
                'variant': v,
                'baseline': 'control',
                'absoluteLift': diff,
                'relativeLift': lift,
                'ci': {'lower': lo, 'upper': hi},
                'relativeCi': {'lower': rlo, 'upper': rhi},
                'pValue': p,
                'relativePValue': rp,
                'standardError': math.sqrt(ys[v].var(ddof=1) / ys[v].size + ys['control'].var(ddof=1) / ys['control'].size),
                'units': int(ys['control'].size + ys[v].size),
                'sequential': {'pValue': sp, 'ci': {'lower': slo, 'upper': shi}},
                'bayesian': {'chanceToBeatBaseline': chance, 'expectedLoss': loss},
                'cuped': cuped(ys, xs, 'control', v),
            }
            comps.append(comp)
            comparisons.append(comp)
        metrics_out.append({'metric': m, 'variants': variants, 'comparisons': comps})
    ps = [c['pValue'] for c in comparisons]
    holm = multipletests(ps, method='holm')[1]
    bh = multipletests(ps, method='fdr_bh')[1]
    holm_rel = multipletests([c['relativePValue'] for c in comparisons], method='holm')[1]
    holm_seq = multipletests([c['sequential']['pValue'] for c in comparisons], method='holm')[1]
    for c, h, b, hr, hs in zip(comparisons, holm, bh, holm_rel, holm_seq):
        c['adjustedPValue'] = float(h)
        c['adjustedPValueBh'] = float(b)
        c['relativeAdjustedPValue'] = float(hr)
        c['sequential']['adjustedPValue'] = float(hs)
        c['significance'] = {'absolute': bool(h < ALPHA), 'relative': bool(hr < ALPHA), 'alwaysValid': bool(hs < ALPHA)}

    # Recommendation basis of the running experiment: always-valid until the planned size (the units the primary
    # metric needs for 80 % power at a 5 % relative MDE, n (se / se*)^2 per comparison, scaled to all variants).
    mde, power = 0.05, 0.8
    zsum = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(power)
    prim = metrics_out[0]
    mc = prim['variants'][0]['mean']
    total_units = sum(v['units'] for v in prim['variants'])
    planned = 0
    for c in prim['comparisons']:
        pair = math.ceil(c['units'] * (c['standardError'] / (mde * abs(mc) / zsum)) ** 2)
        c['requiredUnits'] = pair
        planned = max(planned, math.ceil(pair * total_units / c['units']))
    basis = 'always-valid' if total_units < planned else 'fixed-horizon'
    for c in comparisons:
        c['significant'] = c['significance']['alwaysValid' if basis == 'always-valid' else 'absolute']
    # Traffic from the exposures' own span (first to last first exposure of the analysed units), at least 1 hour;
    # estimatedDays of a keep-running variant = ceil(extra units / (rate x the pair's share of units)).
    firsts = {}
    for x in exposures:
        firsts.setdefault(x['unitId'], []).append(datetime.fromisoformat(x['timestamp'].replace('Z', '+00:00')))
    single = [min(ts) for u, ts in firsts.items() if len(ts) == 1]
    span_days = max((max(single) - min(single)).total_seconds(), 3600) / 86400
    units_per_day = len(single) / span_days
    for c in prim['comparisons']:
        extra = max(0, c['requiredUnits'] - c['units'])
        c['estimatedDays'] = math.ceil(extra / (units_per_day * c['units'] / total_units))
    traffic = {'unitsPerDay': units_per_day, 'plannedUnits': planned, 'basis': basis, 'totalUnits': total_units}
    counts = [observed[v] for v in VARIANTS]
    total = sum(counts)
    expected = [total / 3] * 3
    chi = stats.chisquare(counts, expected)
    srm = {'observed': observed, 'expected': dict(zip(VARIANTS, expected)), 'chiSquare': float(chi.statistic), 'pValue': float(chi.pvalue), 'flagged': bool(chi.pvalue < 0.001)}

    # POST /v1/stats/power: statsmodels NormalIndPower (two-sided), solved with brentq at 1e-15
    analysis = NormalIndPower()
    power_cases = []
    for baseline, mde, mde_type, alpha, power, ratio in [
        ({'proportion': 0.1}, 0.05, 'relative', 0.05, 0.8, 1.0),
        ({'mean': 12.5, 'stdDev': 30.0}, 0.5, 'absolute', 0.01, 0.9, 2.0),
    ]:
        sd = math.sqrt(baseline['proportion'] * (1 - baseline['proportion'])) if 'proportion' in baseline else baseline['stdDev']
        mean = baseline.get('proportion', baseline.get('mean'))
        abs_mde = mde * mean if mde_type == 'relative' else mde
        d = abs_mde / sd
        n1 = optimize.brentq(lambda n: analysis.power(d, n, alpha, ratio=ratio, alternative='two-sided') - power, 2, 1e9, xtol=1e-15, rtol=1e-15)
        power_cases.append({
            'request': {'baseline': baseline, 'mde': mde, 'mdeType': mde_type, 'alpha': alpha, 'power': power, 'ratio': ratio},
            'expected': {'effectSize': d, 'absoluteMde': abs_mde, 'nControl': n1, 'nTreatment': n1 * ratio, 'nControlRounded': math.ceil(n1), 'nTreatmentRounded': math.ceil(n1 * ratio)},
        })
    for baseline, n1, alpha, power, ratio in [({'mean': 4.0, 'stdDev': 9.0}, 2500, 0.05, 0.8, 1.0), ({'proportion': 0.3}, 800, 0.1, 0.85, 0.5)]:
        sd = math.sqrt(baseline['proportion'] * (1 - baseline['proportion'])) if 'proportion' in baseline else baseline['stdDev']
        mean = baseline.get('proportion', baseline.get('mean'))
        d = optimize.brentq(lambda e: analysis.power(e, n1, alpha, ratio=ratio, alternative='two-sided') - power, 1e-9, 50, xtol=1e-15, rtol=1e-15)
        power_cases.append({
            'request': {'baseline': baseline, 'nControl': n1, 'alpha': alpha, 'power': power, 'ratio': ratio},
            'expected': {'effectSize': d, 'absoluteMde': d * sd, 'relativeMde': d * sd / mean},
        })

    doc = {
        'generator': 'tools/stats/gen_report_golden.py',
        'python': sys.version.split()[0],
        'numpy': np.__version__,
        'scipy': scipy.__version__,
        'statsmodels': statsmodels.__version__,
        'experiment': {
            'key': KEY,
            'name': 'Imported golden experiment',
            'kind': 'ab',
            'assignment': 'external',
            'variants': [{'key': v, 'weight': 1, 'config': {}} for v in VARIANTS],
            'metrics': {'primary': 'revenue', 'guardrails': [], 'secondary': ['clicks']},
        },
        'metricDefinitions': [{'key': 'revenue', 'name': 'Revenue', 'type': 'sum', 'direction': 'increase'}],
        'alpha': ALPHA,
        'tuningN': TUNING_N,
        'exposures': exposures,
        'events': events,
        'expected': {'srm': srm, 'multipleExposures': 1, 'metrics': metrics_out, 'traffic': traffic},
        'power': power_cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as fh:
        json.dump(doc, fh, indent=1)
        fh.write('\n')
    print(f'{OUT}: {len(exposures)} exposures, {len(events)} events, {len(comparisons)} comparisons, {len(power_cases)} power cases')
    print('srm', srm)
    for c in comparisons:
        print(c['variant'], c['pValue'], c['adjustedPValue'], c['cuped']['varianceReduction'])


if __name__ == '__main__':
    main()
