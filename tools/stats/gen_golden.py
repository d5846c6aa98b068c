#!/usr/bin/python3
"""Golden files for libs/stats, generated with SciPy / statsmodels / NumPy.

Run with Debian's interpreter (the pyenv `python3` on PATH lacks SciPy):

    /usr/bin/python3 tools/stats/gen_golden.py

Writes libs/stats/src/__golden__/*.json. Every case holds the summary-statistic INPUTS the
TypeScript functions take (computed from seeded raw data where there is data) and the EXPECTED
outputs computed here independently of the TypeScript code: from raw arrays with scipy.stats /
statsmodels where those libraries implement the method, otherwise from explicit NumPy formulas
written in a different form than the TypeScript (gradient vectors and covariance matrices for the
delta method, adjusted unit-level arrays for CUPED, the mixture likelihood ratio for mSPRT,
numerical integration to cross-check the Bayesian expected loss). `null` marks a degenerate case
where the TypeScript must return null numbers and a reason.
"""
import json
import math
import os
import sys

import numpy as np
import scipy
import statsmodels
from scipy import integrate, optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'libs', 'stats', 'src', '__golden__')
META = {
    'generator': 'tools/stats/gen_golden.py',
    'python': sys.version.split()[0],
    'numpy': np.__version__,
    'scipy': scipy.__version__,
    'statsmodels': statsmodels.__version__,
}


def f(x):
    """Float or None (NaN / inf become None: the TS must return null there)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def write(name, cases, **extra):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + '.json'), 'w') as fh:
        json.dump({**META, **extra, 'cases': cases}, fh, indent=1, sort_keys=False)
        fh.write('\n')
    print(f'{name}: {len(cases)} cases')


def arm(a):
    a = np.asarray(a, dtype=float)
    return {'n': int(a.size), 'mean': float(a.mean()), 'variance': float(a.var(ddof=1)) if a.size > 1 else 0.0}


# ----------------------------------------------------------------------------- data sets
def datasets():
    rng = np.random.default_rng(20240601)
    d = {}
    d['normal_equal_n'] = (rng.normal(10, 2, 1000), rng.normal(10.2, 2, 1000))
    d['unequal_sizes_and_variances'] = (rng.normal(5, 1, 400), rng.normal(5.3, 3, 50))
    d['tiny_n2'] = (np.array([1.0, 2.5]), np.array([2.0, 4.0]))
    d['zero_variance_control'] = (np.full(20, 3.0), rng.normal(3.4, 1, 30))
    d['zero_variance_treatment'] = (rng.normal(1, 0.5, 15), np.full(12, 0.8))
    d['single_unit_control'] = (np.array([4.0]), rng.normal(4, 1, 10))
    d['single_unit_treatment'] = (rng.normal(4, 1, 10), np.array([5.0]))
    d['both_zero_variance'] = (np.full(5, 2.0), np.full(7, 2.5))
    d['large_n_small_effect'] = (rng.normal(0.1, 1, 1_000_000), rng.normal(0.102, 1, 1_000_000))
    d['large_n_huge_effect'] = (rng.normal(1, 1, 100_000), rng.normal(1.1, 1, 100_000))
    d['binary_conversion'] = (rng.binomial(1, 0.10, 20_000).astype(float), rng.binomial(1, 0.11, 21_000).astype(float))
    d['skewed_revenue'] = (rng.exponential(20, 3000) * rng.binomial(1, 0.05, 3000), rng.exponential(22, 2800) * rng.binomial(1, 0.05, 2800))
    d['negative_lift'] = (rng.normal(50, 10, 300), rng.normal(47, 12, 280))
    d['zero_control_mean'] = (np.array([-1.0, 1.0, -2.0, 2.0]), np.array([0.5, 1.5, 1.0]))
    # issue 14 field cases: a negative baseline (net margin), a control mean not clearly away from 0, large offsets
    d['negative_baseline'] = (np.array([-12.0, -8.0]), np.array([-7.0, -3.0]))
    d['negative_baseline_worse'] = (rng.normal(-20, 4, 200), rng.normal(-21, 4, 210))
    d['control_mean_near_zero'] = (rng.normal(0.05, 1, 100), rng.normal(0.3, 1, 100))
    for offset in (1e9, 1e8, 1e6):
        d[f'offset_{offset:.0e}'] = (np.array([offset, offset + 1]), np.array([offset + 1, offset + 2]))
    d['offset_1e9_n200'] = (1e9 + rng.normal(0, 3, 200).round(), 1e9 + rng.normal(0.5, 3, 200).round())
    return d


def fieller_bounded(mc, var_mc, alpha):
    """Fieller (1954): the (1 - alpha) confidence set of a ratio is a bounded interval iff the denominator's
    z statistic exceeds z_{1-alpha/2}; otherwise no relative lift is reported."""
    return mc * mc > stats.norm.ppf(1 - alpha / 2) ** 2 * var_mc


# ----------------------------------------------------------------------------- summaries at large offsets
def gen_summaries():
    """Raw values with a large common offset (issue 14: 1e9 + small spread) and their ddof=1 moments (NumPy's
    two-pass var / cov). The TS shifts by a reference value before squaring, as the report's SQL must."""
    rng = np.random.default_rng(14)
    cases = []
    for offset in (0.0, 1e6, 1e8, 1e9, 1e12, -1e9):
        for name, x in (('two', np.array([0.0, 1.0])), ('n50', rng.normal(0, 2, 50).round(3))):
            v = offset + x
            y = 3 * offset + 2 * x + rng.normal(0, 1, x.size).round(3)
            cases.append({'name': f'{name} offset={offset:g}', 'values': [float(a) for a in v], 'paired': [float(a) for a in y],
                          'expected': {'n': int(v.size), 'mean': f(v.mean()), 'variance': f(v.var(ddof=1)),
                                       'pairedVariance': f(y.var(ddof=1)), 'covariance': f(np.cov(v, y, ddof=1)[0, 1])}})
    write('summaries', cases, reference='numpy mean / var(ddof=1) / cov(ddof=1) (two-pass) of the raw values')


# ----------------------------------------------------------------------------- distributions
def gen_distributions():
    xs = [-38.0, -12.0, -8.3, -5.0, -1.959963984540054, -0.5, 0.0, 0.3, 1.2, 3.0, 7.0, 25.0]
    ps = [1e-300, 1e-20, 1e-8, 0.001, 0.025, 0.1, 0.3, 0.5, 0.8, 0.975, 0.995]
    dfs = [1.0, 1.5, 2.0, 3.0, 7.3, 30.0, 197.6, 5000.0, 2e6]
    ts = [-50.0, -10.0, -3.0, -1.0, -0.1, 0.5, 2.0, 4.5, 30.0]
    tps = [1e-12, 0.001, 0.025, 0.2, 0.7, 0.975, 0.9995]
    cases = {
        'normalCdf': [{'x': x, 'expected': f(stats.norm.cdf(x))} for x in xs],
        'normalSf': [{'x': x, 'expected': f(stats.norm.sf(x))} for x in xs],
        'normalQuantile': [{'p': p, 'expected': f(stats.norm.ppf(p))} for p in ps],
        'studentTSf': [{'t': t, 'df': df, 'expected': f(stats.t.sf(t, df))} for df in dfs for t in ts],
        'studentTQuantile': [{'p': p, 'df': df, 'expected': f(stats.t.ppf(p, df))} for df in dfs for p in tps],
        'chiSquareSf': [{'x': x, 'k': k, 'expected': f(stats.chi2.sf(x, k))}
                        for k in [1, 2, 3, 10, 51] for x in [0.01, 0.5, 3.0, 6.9, 30.0, 200.0, 1500.0]],
    }
    write('distributions', cases)


# ----------------------------------------------------------------------------- Welch
def welch_expected(c, t, alpha):
    if c.size < 2 or t.size < 2 or (c.var() == 0 and t.var() == 0):
        return None
    sp = stats.ttest_ind(t, c, equal_var=False)
    cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    tstat, pval, df = cm.ttest_ind(usevar='unequal')
    lo, hi = cm.tconfint_diff(alpha=alpha, usevar='unequal')
    assert abs(tstat - sp.statistic) <= 1e-9 * abs(sp.statistic) + 1e-12
    assert abs(pval - sp.pvalue) <= 1e-9 * sp.pvalue + 1e-300
    return {
        'difference': f(t.mean() - c.mean()),
        'standardError': f(math.sqrt(t.var(ddof=1) / t.size + c.var(ddof=1) / c.size)),
        'tStatistic': f(sp.statistic),
        'degreesOfFreedom': f(df),
        'pValue': f(sp.pvalue),
        'ciLower': f(lo),
        'ciUpper': f(hi),
    }


def gen_welch(ds):
    cases = []
    for name, (c, t) in ds.items():
        for alpha in ([0.05, 0.01] if name == 'normal_equal_n' else [0.05]):
            cases.append({'name': f'{name} alpha={alpha}', 'alpha': alpha, 'control': arm(c), 'treatment': arm(t),
                          'expected': welch_expected(c, t, alpha)})
    write('welch', cases, reference='scipy.stats.ttest_ind(equal_var=False); statsmodels CompareMeans.ttest_ind / tconfint_diff(usevar="unequal")')


# ----------------------------------------------------------------------------- relative lift
def relative_expected(c, t, alpha):
    if c.size < 2 or t.size < 2 or c.mean() == 0:
        return None
    mc, mt = c.mean(), t.mean()
    if not fieller_bounded(mc, c.var(ddof=1) / c.size, alpha):
        return None
    # L = (mt - mc) / |mc|; gradient with respect to (mt, mc)
    grad = np.array([1.0 / abs(mc), -np.sign(mc) * mt / mc ** 2])
    cov = np.diag([t.var(ddof=1) / t.size, c.var(ddof=1) / c.size])
    var = float(grad @ cov @ grad)
    if var <= 0:
        return None
    se = math.sqrt(var)
    lift = (mt - mc) / abs(mc)
    z = stats.norm.ppf(1 - alpha / 2)
    return {'relativeLift': f(lift), 'standardError': f(se), 'pValue': f(2 * stats.norm.sf(abs(lift) / se)),
            'ciLower': f(lift - z * se), 'ciUpper': f(lift + z * se)}


def gen_relative(ds):
    cases = []
    for name, (c, t) in ds.items():
        cases.append({'name': name, 'alpha': 0.05, 'control': arm(c), 'treatment': arm(t), 'expected': relative_expected(c, t, 0.05)})
    write('relative_lift', cases, reference='delta method: grad(mt/mc) . diag(Var mt, Var mc) . grad; normal CI/p (NumPy/SciPy)')


# ----------------------------------------------------------------------------- ratio metrics
def ratio_arm(num, den):
    n = num.size
    cv = np.cov(np.vstack([num, den]), ddof=1) if n > 1 else np.zeros((2, 2))
    out = {'n': int(n), 'meanNumerator': float(num.mean()), 'meanDenominator': float(den.mean()),
           'varianceNumerator': float(cv[0, 0]), 'varianceDenominator': float(cv[1, 1]), 'covariance': float(cv[0, 1])}
    if n > 1 and den.sum() != 0 and np.max(np.abs(num)) >= 1e6:
        out['linearizedVariance'] = float(np.var(num - num.sum() / den.sum() * den, ddof=1))
    return out


def ratio_one(num, den):
    mu = np.array([num.mean(), den.mean()])
    grad = np.array([1.0 / mu[1], -mu[0] / mu[1] ** 2])
    cv = np.cov(np.vstack([num, den]), ddof=1) / num.size
    r = num.sum() / den.sum()
    # the same variance from the linearised values N - R D (the stable form); the two agree where both are exact
    lin = float(np.var(num - r * den, ddof=1)) / (num.size * mu[1] ** 2) if num.size > 1 else 0.0
    gcg = float(grad @ cv @ grad)
    if np.max(np.abs(num)) < 1e6:
        assert abs(lin - gcg) <= 1e-9 * max(abs(gcg), 1e-300) + 1e-300, (lin, gcg)
    return r, lin


def ratio_expected(c, t, alpha):
    (cn, cd), (tn, td) = c, t
    if cn.size < 2 or tn.size < 2 or cd.sum() == 0 or td.sum() == 0:
        return None
    rc, vc = ratio_one(cn, cd)
    rt, vt = ratio_one(tn, td)
    z = stats.norm.ppf(1 - alpha / 2)
    se = math.sqrt(vc + vt)
    diff = rt - rc
    out = {'controlRatio': f(rc), 'treatmentRatio': f(rt), 'difference': f(diff), 'differenceStandardError': f(se),
           'pValue': f(2 * stats.norm.sf(abs(diff) / se)), 'ciLower': f(diff - z * se), 'ciUpper': f(diff + z * se)}
    if not fieller_bounded(rc, vc, alpha):
        out.update({k: None for k in ('relativeLift', 'relativeStandardError', 'relativePValue', 'relativeCiLower', 'relativeCiUpper')})
        return out
    g = np.array([1.0 / abs(rc), -np.sign(rc) * rt / rc ** 2])   # gradient of (rt - rc)/|rc|
    rv = float(g @ np.diag([vt, vc]) @ g)
    rse = math.sqrt(rv)
    lift = (rt - rc) / abs(rc)
    out.update({'relativeLift': f(lift), 'relativeStandardError': f(rse), 'relativePValue': f(2 * stats.norm.sf(abs(lift) / rse)),
                'relativeCiLower': f(lift - z * rse), 'relativeCiUpper': f(lift + z * rse)})
    return out


def gen_ratio():
    rng = np.random.default_rng(7)
    cases = []

    def sessions_clicks(n, ctr, mean_sessions):
        den = rng.poisson(mean_sessions, n).astype(float) + 1
        num = rng.binomial(den.astype(int), ctr).astype(float)
        return num, den

    sets = {
        'ctr_equal_n': (sessions_clicks(2000, 0.10, 4), sessions_clicks(2000, 0.11, 4)),
        'ctr_unequal_n': (sessions_clicks(300, 0.2, 2), sessions_clicks(5000, 0.19, 2.5)),
        'tiny_n2': ((np.array([1.0, 3.0]), np.array([2.0, 5.0])), (np.array([2.0, 2.0]), np.array([4.0, 3.0]))),
        'large_n': (sessions_clicks(300_000, 0.05, 3), sessions_clicks(300_000, 0.051, 3)),
        'revenue_per_order': ((rng.gamma(2, 10, 800) * (rng.random(800) < 0.3), (rng.random(800) < 0.3).astype(float) + rng.poisson(0.5, 800)),
                              (rng.gamma(2, 11, 900) * (rng.random(900) < 0.3), (rng.random(900) < 0.3).astype(float) + rng.poisson(0.5, 900))),
        'single_unit_control': ((np.array([1.0]), np.array([3.0])), sessions_clicks(20, 0.3, 2)),
        'zero_denominator_control': ((np.zeros(10), np.zeros(10)), sessions_clicks(20, 0.3, 2)),
        # issue 14: net margin per order, negative in both arms (treatment less negative: better)
        'negative_ratio': ((-rng.gamma(4, 5, 600), rng.poisson(2, 600) + 1.0), (-rng.gamma(4, 4.5, 650), rng.poisson(2, 650) + 1.0)),
        # a control ratio whose interval contains 0: the relative figures are null
        'control_ratio_near_zero': ((rng.normal(0.02, 1, 200), np.ones(200)), (rng.normal(0.5, 1, 200), np.ones(200))),
    }
    # issue 14: 1e7 per visit +- a little, numerator proportional to the denominator: the three-moment bracket
    # cancels (about 14 of 16 digits), the linearised variance var(N - R D) does not (given as linearizedVariance).
    # (At 1e9 the difference of two ratios of ~1e9 is itself only good to ~1e-6 relative in double precision.)
    visits_c, visits_t = rng.poisson(2, 300) + 1.0, rng.poisson(2, 320) + 1.0
    sets['proportional_1e7'] = ((1e7 * visits_c + rng.integers(0, 5, 300), visits_c), (1e7 * visits_t + rng.integers(1, 6, 320), visits_t))
    for name, (c, t) in sets.items():
        cases.append({'name': name, 'alpha': 0.05, 'control': ratio_arm(*c), 'treatment': ratio_arm(*t), 'expected': ratio_expected(c, t, 0.05)})
    write('ratio', cases, reference='delta method: grad(muN/muD) . cov([num, den], ddof=1)/n . grad per arm (NumPy)')


# ----------------------------------------------------------------------------- CUPED
def cuped_arm(x, y):
    n = x.size
    cv = np.cov(np.vstack([x, y]), ddof=1) if n > 1 else np.zeros((2, 2))
    return {'n': int(n), 'meanX': float(x.mean()), 'meanY': float(y.mean()), 'varianceX': float(cv[0, 0]),
            'varianceY': float(cv[1, 1]), 'covarianceXY': float(cv[0, 1])}


def cuped_expected(c, t, alpha):
    (xc, yc), (xt, yt) = c, t
    if xc.size < 2 or xt.size < 2:
        return None
    # pooled within-arm theta from centred unit-level data
    sxy = np.sum((xc - xc.mean()) * (yc - yc.mean())) + np.sum((xt - xt.mean()) * (yt - yt.mean()))
    sxx = np.sum((xc - xc.mean()) ** 2) + np.sum((xt - xt.mean()) ** 2)
    theta = sxy / sxx if sxx > 0 else 0.0
    xbar = np.concatenate([xc, xt]).mean()
    yc_adj = yc - theta * (xc - xbar)
    yt_adj = yt - theta * (xt - xbar)
    w = welch_expected(yc_adj, yt_adj, alpha)
    before = yc.var(ddof=1) / yc.size + yt.var(ddof=1) / yt.size
    after = yc_adj.var(ddof=1) / yc.size + yt_adj.var(ddof=1) / yt.size
    return {
        'theta': f(theta),
        'covariateMean': f(xbar),
        'controlAdjustedMean': f(yc_adj.mean()), 'controlAdjustedVariance': f(yc_adj.var(ddof=1)),
        'treatmentAdjustedMean': f(yt_adj.mean()), 'treatmentAdjustedVariance': f(yt_adj.var(ddof=1)),
        'varianceReduction': f(1 - after / before) if before > 0 else None,
        'welch': w,
        'relative': relative_expected(yc_adj, yt_adj, alpha),
    }


def gen_cuped():
    rng = np.random.default_rng(11)
    cases = []

    def pair(n, rho, effect, mean_x=10.0):
        x = rng.normal(mean_x, 2, n)
        noise = rng.normal(0, 2, n)
        y = mean_x + rho * (x - mean_x) + math.sqrt(1 - rho ** 2) * noise + effect
        return x, y

    sets = {
        'rho_0.7_equal_n': (pair(2000, 0.7, 0), pair(2000, 0.7, 0.15)),
        'rho_0.3_unequal_n': (pair(500, 0.3, 0), pair(1500, 0.3, 0.1)),
        'rho_0.95_large_n': (pair(200_000, 0.95, 0), pair(200_000, 0.95, 0.01)),
        'tiny_n2': ((np.array([1.0, 2.0]), np.array([1.5, 2.7])), (np.array([0.5, 3.0]), np.array([1.0, 3.2]))),
        'constant_covariate': ((np.full(30, 1.0), rng.normal(5, 1, 30)), (np.full(40, 1.0), rng.normal(5.5, 1, 40))),
        'single_unit_treatment': (pair(20, 0.5, 0), (np.array([1.0]), np.array([2.0]))),
        'negative_correlation': ((lambda x: (x, 20 - 0.8 * x + rng.normal(0, 1, x.size)))(rng.normal(5, 1, 700)),
                                 (lambda x: (x, 20.3 - 0.8 * x + rng.normal(0, 1, x.size)))(rng.normal(5, 1, 650))),
    }
    for name, (c, t) in sets.items():
        cases.append({'name': name, 'alpha': 0.05, 'control': cuped_arm(*c), 'treatment': cuped_arm(*t), 'expected': cuped_expected(c, t, 0.05)})
    write('cuped', cases, reference='theta from pooled within-arm centred sums; Welch (scipy/statsmodels) on unit-level adjusted arrays')


# ----------------------------------------------------------------------------- mSPRT
def msprt_expected(c, t, alpha, tuning_n):
    if c['n'] < 2 or t['n'] < 2:
        return None
    V = t['variance'] / t['n'] + c['variance'] / c['n']
    if V <= 0:
        return None
    theta_hat = t['mean'] - c['mean']
    N = c['n'] + t['n']
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning_n
    tau2 = rho2 * N * V
    # mixture likelihood ratio (Johari et al.): integrate N(theta_hat; theta, V) over theta ~ N(0, tau2), / N(theta_hat; 0, V)
    lam = math.sqrt(V / (V + tau2)) * math.exp(theta_hat ** 2 * tau2 / (2 * V * (V + tau2)))
    num = stats.norm.pdf(theta_hat, 0, math.sqrt(V + tau2))
    den = stats.norm.pdf(theta_hat, 0, math.sqrt(V))
    if den > 1e-250:
        assert abs(num / den - lam) <= 1e-9 * lam
    p = min(1.0, 1.0 / lam)
    # GrowthBook / Waudby-Smith half-width with s2 = N V
    s2 = N * V
    half = math.sqrt(s2) * math.sqrt(2 * (N * rho2 + 1) / (N ** 2 * rho2) * math.log(math.sqrt(N * rho2 + 1) / alpha))
    # cross-check: Lambda(theta_hat +- half) == 1/alpha
    lam_edge = math.sqrt(V / (V + tau2)) * math.exp(half ** 2 * tau2 / (2 * V * (V + tau2)))
    assert abs(lam_edge * alpha - 1) < 1e-9
    return {'difference': f(theta_hat), 'standardError': f(math.sqrt(V)), 'rhoSquared': f(rho2), 'mixingVariance': f(tau2),
            'logLikelihoodRatio': f(math.log(lam)), 'pValue': f(p), 'ciLower': f(theta_hat - half), 'ciUpper': f(theta_hat + half)}


def gen_msprt(ds):
    cases = []
    for name, (c, t) in ds.items():
        for tuning in ([5000, 500] if name == 'normal_equal_n' else [5000]):
            ca, ta = arm(c), arm(t)
            cases.append({'name': f'{name} N*={tuning}', 'alpha': 0.05, 'tuningN': tuning, 'control': ca, 'treatment': ta,
                          'expected': msprt_expected(ca, ta, 0.05, tuning)})
    # a monitored sequence: running minimum p-value and intersected interval over looks
    rng = np.random.default_rng(99)
    c_all, t_all = rng.normal(0, 1, 4000), rng.normal(0.08, 1, 4000)
    looks, run_p, lo, hi = [], 1.0, -math.inf, math.inf
    for k in [200, 500, 1000, 2000, 4000]:
        ca, ta = arm(c_all[:k]), arm(t_all[:k])
        e = msprt_expected(ca, ta, 0.05, 5000)
        run_p = min(run_p, e['pValue'])
        nlo, nhi = max(lo, e['ciLower']), min(hi, e['ciUpper'])
        if nlo <= nhi:
            lo, hi = nlo, nhi
        else:
            lo, hi = e['ciLower'], e['ciUpper']
        looks.append({'control': ca, 'treatment': ta, 'expected': {'pValue': run_p, 'ciLower': lo, 'ciUpper': hi}})
    write('msprt', cases, sequence={'alpha': 0.05, 'tuningN': 5000, 'looks': looks},
          reference='normal-mixture likelihood ratio (Johari et al.), tau2 = rho2*N*V, rho2 = (-2 ln a + ln(1 - 2 ln a))/N*; CS half-width as GrowthBook')


# ----------------------------------------------------------------------------- SRM
def gen_srm():
    sets = [
        ('brief_example_50_50', {'control': 44700, 'ts': 45489}, {'control': 50, 'ts': 50}),
        ('balanced', {'control': 10012, 'treatment': 9988}, {'control': 1, 'treatment': 1}),
        ('severe_mismatch', {'control': 50000, 'treatment': 47000}, {'control': 50, 'treatment': 50}),
        ('three_arms_unequal_weights', {'a': 2040, 'b': 2950, 'c': 5010}, {'a': 20, 'b': 30, 'c': 50}),
        ('three_arms_flagged', {'a': 2300, 'b': 2950, 'c': 4750}, {'a': 20, 'b': 30, 'c': 50}),
        ('tiny_counts', {'a': 1, 'b': 4}, {'a': 1, 'b': 1}),
        ('arm_with_zero_units', {'a': 0, 'b': 30}, {'a': 1, 'b': 1}),
        ('ten_arms', {f'v{i}': 1000 + 7 * i * (-1) ** i for i in range(10)}, {f'v{i}': 1 for i in range(10)}),
        ('no_units', {'a': 0, 'b': 0}, {'a': 1, 'b': 1}),
        ('single_variant', {'a': 10}, {'a': 1}),
    ]
    cases = []
    for name, obs, w in sets:
        keys = list(w.keys())
        o = np.array([obs.get(k, 0) for k in keys], dtype=float)
        wt = np.array([w[k] for k in keys], dtype=float)
        if len(keys) < 2 or o.sum() == 0:
            exp = None
        else:
            e = o.sum() * wt / wt.sum()
            res = stats.chisquare(o, e)
            exp = {'chiSquare': f(res.statistic), 'pValue': f(res.pvalue), 'flagged': bool(res.pvalue < 0.001),
                   'expected': {k: float(v) for k, v in zip(keys, e)}, 'degreesOfFreedom': len(keys) - 1}
        cases.append({'name': name, 'observed': obs, 'weights': w, 'expected': exp})
    write('srm', cases, reference='scipy.stats.chisquare(observed, total*w/sum(w)); flagged at p < 0.001')


# ----------------------------------------------------------------------------- Bayesian
def bayes_expected(c, t, scale, prior, higher_better, alpha=0.05):
    if c['n'] < 2 or t['n'] < 2:
        return None
    if scale == 'absolute':
        est = t['mean'] - c['mean']
        var = t['variance'] / t['n'] + c['variance'] / c['n']
    else:
        if c['mean'] == 0 or not fieller_bounded(c['mean'], c['variance'] / c['n'], alpha):
            return None
        mc, mt = c['mean'], t['mean']
        g = np.array([1 / abs(mc), -np.sign(mc) * mt / mc ** 2])
        var = float(g @ np.diag([t['variance'] / t['n'], c['variance'] / c['n']]) @ g)
        est = (mt - mc) / abs(mc)
    if var <= 0:
        return None
    if prior:
        # posterior of a normal mean: solve the 1-d normal equations as precision-weighted least squares
        A = np.array([[1.0 / prior['variance'] + 1.0 / var]])
        b = np.array([prior['mean'] / prior['variance'] + est / var])
        pm = float(np.linalg.solve(A, b)[0])
        pv = float(1.0 / A[0, 0])
    else:
        pm, pv = est, var
    sd = math.sqrt(pv)
    m = pm if higher_better else -pm
    ctb = stats.norm.sf(0, loc=m, scale=sd)
    loss_t = sd * stats.norm.pdf(m / sd) - m * stats.norm.cdf(-m / sd)
    loss_c = sd * stats.norm.pdf(m / sd) + m * stats.norm.cdf(m / sd)
    # independent cross-check by numerical integration of E[max(0, -D)] and E[max(0, D)]
    qt = integrate.quad(lambda x: -x * stats.norm.pdf(x, m, sd), m - 40 * sd, min(0.0, m + 40 * sd), epsabs=0, epsrel=1e-12, limit=200)[0] if m - 40 * sd < 0 else 0.0
    qc = integrate.quad(lambda x: x * stats.norm.pdf(x, m, sd), max(0.0, m - 40 * sd), m + 40 * sd, epsabs=0, epsrel=1e-12, limit=200)[0] if m + 40 * sd > 0 else 0.0
    for a, q in ((loss_t, qt), (loss_c, qc)):
        assert abs(a - q) <= 1e-7 * max(abs(a), 1e-12) + 1e-14, (a, q)
    z = stats.norm.ppf(1 - alpha / 2)
    return {'estimate': f(est), 'standardError': f(math.sqrt(var)), 'posteriorMean': f(pm), 'posteriorStdDev': f(sd),
            'chanceToBeatBaseline': f(ctb), 'expectedLoss': f(max(0.0, loss_t)), 'expectedLossControl': f(max(0.0, loss_c)),
            'ciLower': f(pm - z * sd), 'ciUpper': f(pm + z * sd)}


def gen_bayes(ds):
    cases = []
    for name, (c, t) in ds.items():
        ca, ta = arm(c), arm(t)
        variants = [('relative', None, True), ('absolute', None, True)]
        if name in ('normal_equal_n', 'unequal_sizes_and_variances', 'binary_conversion', 'negative_lift', 'negative_baseline_worse'):
            variants += [('relative', {'mean': 0.0, 'variance': 0.3 ** 2}, True), ('absolute', {'mean': 0.05, 'variance': 0.01}, True),
                         ('relative', None, False)]
        for scale, prior, hb in variants:
            cases.append({'name': f'{name} {scale} prior={prior is not None} {"higher" if hb else "lower"}-is-better',
                          'scale': scale, 'prior': prior, 'direction': 'higher-is-better' if hb else 'lower-is-better',
                          'control': ca, 'treatment': ta, 'expected': bayes_expected(ca, ta, scale, prior, hb)})
    write('bayesian', cases, reference='Gaussian approximation, conjugate normal prior; losses checked by scipy.integrate.quad')


# ----------------------------------------------------------------------------- multiple testing
def gen_multiple():
    rng = np.random.default_rng(3)
    sets = {
        'five_mixed': [0.01, 0.04, 0.03, 0.005, 0.2],
        'ties': [0.02, 0.02, 0.02, 0.5],
        'tiny_and_ones': [1e-12, 1.0, 0.9999, 3e-5, 1.0],
        'single': [0.03],
        'random_40': [float(x) for x in rng.uniform(0, 0.2, 40)],
        'with_nulls': [0.01, None, 0.04, None, 0.002],
        'empty': [],
    }
    cases = []
    for name, p in sets.items():
        idx = [i for i, x in enumerate(p) if x is not None]
        holm = [None] * len(p)
        bh = [None] * len(p)
        if idx:
            arr = np.array([p[i] for i in idx])
            h = multipletests(arr, method='holm')[1]
            b = multipletests(arr, method='fdr_bh')[1]
            for j, i in enumerate(idx):
                holm[i], bh[i] = float(h[j]), float(b[j])
        cases.append({'name': name, 'pValues': p, 'holm': holm, 'bh': bh})
    write('multiple_testing', cases, reference="statsmodels multipletests(method='holm' | 'fdr_bh') on the non-null entries")


# ----------------------------------------------------------------------------- power
def gen_power():
    nip = NormalIndPower()

    def solve_n(d, alpha, power, ratio):
        g = lambda n1: nip.power(d, n1, alpha, ratio=ratio, alternative='two-sided') - power
        return optimize.brentq(g, 1e-6, 1e12, xtol=1e-14, rtol=1e-15, maxiter=500)

    def solve_d(n1, alpha, power, ratio):
        g = lambda d: nip.power(d, n1, alpha, ratio=ratio, alternative='two-sided') - power
        return optimize.brentq(g, 1e-12, 1e3, xtol=1e-16, rtol=1e-15, maxiter=500)

    size_cases = []
    specs = [
        ('mean_relative_5pct', {'mean': 10.0, 'stdDev': 4.0}, 0.05, 'relative', 0.05, 0.8, 1.0),
        ('mean_absolute_unbalanced', {'mean': 3.0, 'stdDev': 2.0}, 0.1, 'absolute', 0.05, 0.9, 2.0),
        ('proportion_relative_2pct', {'proportion': 0.1}, 0.02, 'relative', 0.05, 0.8, 1.0),
        ('proportion_absolute_alpha01', {'proportion': 0.3}, 0.01, 'absolute', 0.01, 0.8, 0.5),
        ('large_effect_tiny_n', {'mean': 1.0, 'stdDev': 1.0}, 1.5, 'relative', 0.05, 0.8, 1.0),
        ('tiny_effect_large_n', {'mean': 100.0, 'stdDev': 50.0}, 0.001, 'relative', 0.05, 0.95, 1.0),
    ]
    for name, base, mde, mde_type, alpha, power, ratio in specs:
        mean, sd = (base['proportion'], math.sqrt(base['proportion'] * (1 - base['proportion']))) if 'proportion' in base else (base['mean'], base['stdDev'])
        abs_mde = mde * abs(mean) if mde_type == 'relative' else mde
        d = abs_mde / sd
        n1 = solve_n(d, alpha, power, ratio)
        sm = nip.solve_power(effect_size=d, nobs1=None, alpha=alpha, power=power, ratio=ratio, alternative='two-sided')
        size_cases.append({'name': name, 'input': {'baseline': base, 'mde': mde, 'mdeType': mde_type, 'alpha': alpha, 'power': power, 'ratio': ratio},
                           'expected': {'effectSize': d, 'absoluteMde': abs_mde, 'nControl': n1, 'nTreatment': n1 * ratio,
                                        'nControlRounded': math.ceil(n1), 'nTreatmentRounded': math.ceil(n1 * ratio),
                                        'statsmodelsSolvePower': float(sm)}})
    mde_cases = []
    for name, base, n1, alpha, power, ratio in [
        ('mean_n1000', {'mean': 10.0, 'stdDev': 4.0}, 1000, 0.05, 0.8, 1.0),
        ('proportion_n50000_ratio2', {'proportion': 0.05}, 50000, 0.05, 0.8, 2.0),
        ('mean_n10_alpha01', {'mean': -2.0, 'stdDev': 1.0}, 10, 0.01, 0.9, 1.0),
        ('zero_mean_absolute_only', {'mean': 0.0, 'stdDev': 1.0}, 500, 0.05, 0.8, 1.0),
    ]:
        mean, sd = (base['proportion'], math.sqrt(base['proportion'] * (1 - base['proportion']))) if 'proportion' in base else (base['mean'], base['stdDev'])
        d = solve_d(n1, alpha, power, ratio)
        sm = nip.solve_power(effect_size=None, nobs1=n1, alpha=alpha, power=power, ratio=ratio, alternative='two-sided')
        mde_cases.append({'name': name, 'input': {'baseline': base, 'nControl': n1, 'alpha': alpha, 'power': power, 'ratio': ratio},
                          'expected': {'effectSize': d, 'absoluteMde': d * sd, 'relativeMde': (d * sd / abs(mean)) if mean != 0 else None,
                                       'statsmodelsSolvePower': float(sm)}})
    power_cases = []
    for d, n1, ratio, alpha in [(0.2, 393, 1.0, 0.05), (0.05, 1000, 3.0, 0.05), (0.01, 10, 1.0, 0.1), (0.5, 200, 0.5, 0.001)]:
        power_cases.append({'effectSize': d, 'nControl': n1, 'ratio': ratio, 'alpha': alpha,
                            'expected': float(nip.power(d, n1, alpha, ratio=ratio, alternative='two-sided'))})
    write('power', size_cases, mde=mde_cases, power=power_cases,
          reference="statsmodels NormalIndPower(alternative='two-sided'): power() solved with scipy brentq to 1e-15; "
                    "statsmodelsSolvePower is NormalIndPower.solve_power's own (looser) answer, kept for comparison")


# ----------------------------------------------------------------------------- decision (extra units)
def gen_decision():
    cases = []
    for se, units, mde, alpha, power, rate in [(0.02, 4000, 0.03, 0.05, 0.8, 1000), (0.005, 100000, 0.02, 0.05, 0.8, 5000), (0.1, 500, 0.05, 0.01, 0.9, 37)]:
        target = mde / (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
        req = math.ceil(units * (se / target) ** 2)
        extra = max(0, req - units)
        cases.append({'standardError': se, 'units': units, 'mde': mde, 'alpha': alpha, 'power': power, 'unitsPerDay': rate,
                      'expected': {'requiredUnits': req, 'extraUnits': extra, 'extraDays': math.ceil(extra / rate)}})
    write('decision', cases, reference='n_req = n (se / (mde / (z_{1-a/2} + z_power)))^2 (standard errors shrink as 1/sqrt(n))')


if __name__ == '__main__':
    ds = datasets()
    gen_summaries()
    gen_distributions()
    gen_welch(ds)
    gen_relative(ds)
    gen_ratio()
    gen_cuped()
    gen_msprt(ds)
    gen_srm()
    gen_bayes(ds)
    gen_multiple()
    gen_power()
    gen_decision()
