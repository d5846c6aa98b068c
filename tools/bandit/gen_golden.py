#!/usr/bin/python3
"""Golden files for libs/bandit, computed with NumPy/SciPy (run with /usr/bin/python3: Debian's numpy + scipy).

    /usr/bin/python3 tools/bandit/gen_golden.py      # writes libs/bandit/src/__golden__/*.json

Everything is computed here independently of the TypeScript code:
- the RNG is a pure-Python port of libs/bandit/src/rng.ts (xoshiro128** seeded by splitmix32, FNV-1a for string
  seeds, 53-bit uniforms, Marsaglia polar normals with caching, Marsaglia-Tsang gamma): its outputs are the
  committed RNG golden values, and the SAME variates feed NumPy's draw formulas below, so drawn coefficients and
  scores can be compared to 1e-9;
- posteriors are computed in BATCH from the final data (X, y after all reward corrections), while the TypeScript
  models get there online (observe with reward 0, then correct), so the tests prove "once all rewards are in, the
  state equals the batch posterior";
- the hybrid posterior is computed as ONE joint ridge regression over [beta, theta_a for every item] and then
  marginalised (Schur complement), independently of Li et al.'s incremental formulas used in TypeScript.
"""
import json
import math
import os
import sys

import numpy as np
from scipy.linalg import cho_solve, solve_triangular

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'libs', 'bandit', 'src', '__golden__')
M32 = 0xFFFFFFFF


# ---------------------------------------------------------------- RNG port (must mirror rng.ts exactly)
def fnv1a32(text):
    h = 0x811C9DC5
    for byte in text.encode('utf-8'):
        h ^= byte
        h = (h * 0x01000193) & M32
    return h


def seed_to_uint32(seed):
    return fnv1a32(seed) if isinstance(seed, str) else seed & M32


class Rng:
    def __init__(self, seed=0):
        st = seed_to_uint32(seed)
        s = []
        for _ in range(4):
            st = (st + 0x9E3779B9) & M32
            z = st
            z = ((z ^ (z >> 16)) * 0x21F0AAAD) & M32
            z = ((z ^ (z >> 15)) * 0x735A2D97) & M32
            s.append((z ^ (z >> 15)) & M32)
        if s == [0, 0, 0, 0]:
            s[0] = 1
        self.s = s
        self.spare = None

    @staticmethod
    def from_state(s):
        r = Rng(0)
        r.s = list(s)
        return r

    def next_uint32(self):
        s = self.s
        m = (s[1] * 5) & M32
        result = ((((m << 7) | (m >> 25)) & M32) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = ((s[3] << 11) | (s[3] >> 21)) & M32
        return result

    def uniform(self):
        a = self.next_uint32() >> 5
        b = self.next_uint32() >> 6
        return (a * 67108864 + b) / 9007199254740992.0

    def normal(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        while True:
            u = 2 * self.uniform() - 1
            v = 2 * self.uniform() - 1
            s = u * u + v * v
            if s >= 1 or s == 0:
                continue
            m = math.sqrt(-2 * math.log(s) / s)
            self.spare = v * m
            return u * m

    def normals(self, n):
        return np.array([self.normal() for _ in range(n)])

    def gamma(self, shape, scale=1.0):
        if shape < 1:
            g = self.gamma(shape + 1, 1.0)
            u = 1 - self.uniform()
            return g * math.pow(u, 1 / shape) * scale
        d = shape - 1 / 3
        c = 1 / math.sqrt(9 * d)
        while True:
            x = self.normal()
            v = 1 + c * x
            if v <= 0:
                continue
            v = v * v * v
            u = self.uniform()
            x2 = x * x
            if u < 1 - 0.0331 * x2 * x2:
                return d * v * scale
            if math.log(u) < 0.5 * x2 + d * (1 - v + math.log(v)):
                return d * v * scale

    def beta(self, a, b):
        x = self.gamma(a, 1.0)
        y = self.gamma(b, 1.0)
        return x / (x + y)

    def split(self):
        s = [self.next_uint32() for _ in range(4)]
        if s == [0, 0, 0, 0]:
            s[0] = 1
        return Rng.from_state(s)


def top_k(scores, k):
    # ties: lower index first (stable sort on -score)
    return [int(i) for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]]


def lst(a):
    return np.asarray(a, dtype=float).ravel().tolist()


def dump(name, obj):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, indent=1)
        f.write('\n')
    print('wrote', os.path.relpath(os.path.join(OUT, name), ROOT))


# ---------------------------------------------------------------- rng.json
def gen_rng():
    cases = []
    for seed in [0, 42, 'slotwise', 4294967295, 'ünïcode-seed']:
        r = Rng(seed)
        u32 = [r.next_uint32() for _ in range(16)]
        r = Rng(seed)
        unif = [r.uniform() for _ in range(8)]
        r = Rng(seed)
        norm = [r.normal() for _ in range(9)]
        r = Rng(seed)
        gam = {str(k): [r.gamma(k, 2.0) for _ in range(4)] for k in [0.3, 1.0, 2.5, 6.0, 1006.0]}
        r = Rng(seed)
        bet = [r.beta(2.0, 5.0) for _ in range(4)]
        r = Rng(seed)
        child = r.split()
        cases.append({'seed': seed, 'uint32': u32, 'uniform': unif, 'normal': norm, 'gammaScale2': gam, 'beta_2_5': bet,
                      'splitChildUint32': [child.next_uint32() for _ in range(4)]})
    # reference C implementation test vector (state as four 32-bit words)
    ref = Rng.from_state([0x964D4A0C, 0xD40AB895, 0xAD7FDECB, 0x3006F0F0])
    dump('rng.json', {'cases': cases, 'reference': {'state': [0x964D4A0C, 0xD40AB895, 0xAD7FDECB, 0x3006F0F0],
                                                      'uint32': [ref.next_uint32() for _ in range(4)]}})


# ---------------------------------------------------------------- linalg.json
def gen_linalg():
    g = np.random.default_rng(20261128)
    d = 6
    B = g.normal(size=(d, d))
    A = B @ B.T + d * np.eye(d)
    L = np.linalg.cholesky(A)
    x = g.normal(size=d)
    L_up = np.linalg.cholesky(A + np.outer(x, x))
    xs = g.normal(size=(5, d))
    L_seq = L.copy()
    Aseq = A.copy()
    for v in xs:
        Aseq = Aseq + np.outer(v, v)
    L_seq = np.linalg.cholesky(Aseq)
    b = g.normal(size=d)
    y = solve_triangular(L, b, lower=True)
    xt = solve_triangular(L.T, b, lower=False)
    U = np.triu(g.normal(size=(d, d))) + 3 * np.eye(d)
    xu = solve_triangular(U, b, lower=False)
    sol = cho_solve((L, True), b)
    mean = g.normal(size=d)
    z = g.normal(size=d)
    scale = 0.7
    mvn = mean + scale * solve_triangular(L.T, z, lower=False)
    R = g.normal(size=(4, 7))
    dump('linalg.json', {
        'd': d, 'A': lst(A), 'L': lst(L), 'x': lst(x), 'L_update': lst(L_up), 'updates': [lst(v) for v in xs],
        'L_updates': lst(L_seq), 'b': lst(b), 'forward': lst(y), 'backTransposed': lst(xt), 'U': lst(U), 'backUpper': lst(xu),
        'cholSolve': lst(sol), 'matvec': lst(A @ b), 'rect': {'rows': 4, 'cols': 7, 'A': lst(R), 'x': lst(g.normal(size=7))},
        'mvn': {'mean': lst(mean), 'z': lst(z), 'scale': scale, 'draw': lst(mvn)},
    })
    # rectangular matvec expected
    data = json.load(open(os.path.join(OUT, 'linalg.json')))
    Rm = np.array(data['rect']['A']).reshape(4, 7)
    data['rect']['y'] = lst(Rm @ np.array(data['rect']['x']))
    dump('linalg.json', data)


# ---------------------------------------------------------------- event sequences with default reward accounting
def make_events(g, n_obs, make_obs, reward_fn):
    """observe every shown slot with reward 0, then correct some; a few get a second correction."""
    events, obs, final = [], [], []
    for t in range(n_obs):
        o = make_obs(t)
        obs.append(o)
        direct = t % 7 == 3  # some rewards known at decision time
        r0 = reward_fn() if direct else 0.0
        events.append({'op': 'observe', **o, 'reward': r0})
        final.append(r0)
    order = g.permutation(n_obs)
    for t in order[: int(n_obs * 0.6)]:
        t = int(t)
        new = reward_fn()
        events.append({'op': 'correct', 'ref': t, 'oldReward': final[t], 'newReward': new})
        final[t] = new
    for t in order[:5]:
        t = int(t)
        new = reward_fn()
        events.append({'op': 'correct', 'ref': t, 'oldReward': final[t], 'newReward': new})
        final[t] = new
    return events, obs, np.array(final)


PRIOR = {'lambda': 0.25, 'a0': 6.0, 'b0': 6.0}


def nig(P, bvec, yy, n):
    mu = np.linalg.solve(P, bvec)
    an = PRIOR['a0'] + n / 2
    bn = PRIOR['b0'] + 0.5 * (yy - mu @ P @ mu)
    return mu, an, bn


def noise_scales(cands, obs, y, an, bn, item_x=None, predict=None):
    """Per-item noise scales c_a (nig.ts itemNoiseScale): E_a = (a0*bn/an + RSS_a/2)/(a0 + n_a/2), c_a =
    sqrt(E_a/(bn/an)); 1 for an unseen item. RSS_a:
    - hybrid (item_x): LinFullPost's per-action y'y - mu'Lambda mu of the item's own ridge regression (prior lambda)
      of its rewards on item_x(observation) = [1, context];
    - linear (predict): the item's squared residuals around the posterior-mean regression evaluated with the
      CANDIDATE's features and each observation's context (TypeScript gets it from per-item sums)."""
    a0, lam = PRIOR['a0'], PRIOR['lambda']
    pooled = bn / an
    out = []
    for c in cands:
        rows = [t for t, o in enumerate(obs) if o['id'] == c['id']]
        if not rows:
            out.append(1.0)
            continue
        ya = y[rows]
        if predict is not None:
            rss = float(sum((y[t] - predict(c, obs[t])) ** 2 for t in rows))
        else:
            X = np.array([item_x(obs[t]) for t in rows])
            P = X.T @ X + lam * np.eye(X.shape[1])
            rss = float(ya @ ya - ya @ X @ np.linalg.solve(P, X.T @ ya))
        out.append(math.sqrt((a0 * pooled + 0.5 * rss) / (a0 + len(rows) / 2) / pooled))
    return np.array(out)


# ---------------------------------------------------------------- linear.json
def gen_linear():
    g = np.random.default_rng(7)
    cdim, idim = 2, 2
    d = 1 + cdim + idim  # featureMap 'concat': [1, context, item]

    def make_obs(t):
        return {'context': lst(g.normal(size=cdim)), 'item': lst(g.normal(size=idim)), 'id': f'i{t % 4}'}

    def reward():
        return float(np.round(g.choice([0.0, 1.0, g.uniform(), 2.5 * g.normal()]), 12))

    events, obs, y = make_events(g, 40, make_obs, reward)
    X = np.array([[1.0] + o['context'] + o['item'] for o in obs])
    lam = PRIOR['lambda']
    P = X.T @ X + lam * np.eye(d)
    mu, an, bn = nig(P, X.T @ y, y @ y, len(y))
    L = np.linalg.cholesky(P)
    # coefficient draw with the TS RNG's variates: Gamma(an, 1), then d normals
    r = Rng('linear-draw')
    gv = r.gamma(an, 1.0)
    z = r.normals(d)
    sigma = math.sqrt(bn / gv)
    beta = mu + sigma * solve_triangular(L.T, z, lower=False)
    # a request: context + 3 candidates (with a shared context the scores vary through [1, item] only: rank 3)
    ctx = lst(g.normal(size=cdim))
    cands = [{'id': cid, 'features': lst(g.normal(size=idim))} for cid in ['i0', 'new', 'i2']]
    Xa = np.array([[1.0] + ctx + c['features'] for c in cands])
    m = Xa @ mu
    S = Xa @ np.linalg.solve(P, Xa.T)
    # decision (canonical draw = the coefficient draw above, same seed) -> drawn scores
    r = Rng('linear-decision')
    gv2 = r.gamma(an, 1.0)
    z2 = r.normals(d)
    beta2 = mu + math.sqrt(bn / gv2) * solve_triangular(L.T, z2, lower=False)
    drawn = Xa @ beta2
    # redraw (score space) with its own seed: Gamma(an,1), then n normals; F = chol(S)
    r = Rng('linear-redraw')
    gv3 = r.gamma(an, 1.0)
    z3 = r.normals(len(cands))
    redraw = m + math.sqrt(bn / gv3) * np.linalg.cholesky(S) @ z3
    sd = np.sqrt(np.diag(S) * bn / (an - 1))
    # per-item noise (the default): S_item = D S D, the same variates scaled per item around the mean
    c = noise_scales(cands, obs, y, an, bn, predict=lambda cand, o: np.array([1.0] + o['context'] + cand['features']) @ mu)
    S_item = S * np.outer(c, c)
    item = {'noiseScale': lst(c), 'covariance': lst(S_item), 'sd': lst(c * sd), 'drawn': lst(m + c * (drawn - m)),
            'redrawn': lst(m + math.sqrt(bn / gv3) * np.linalg.cholesky(S_item) @ z3)}
    dump('linear.json', {
        'config': {**PRIOR, 'contextDim': cdim, 'itemDim': idim, 'featureMap': 'concat', 'noise': 'item'}, 'd': d, 'events': events,
        'finalRewards': lst(y),
        'posterior': {'mean': lst(mu), 'precision': lst(P), 'cholesky': lst(L), 'an': an, 'bn': bn, 'n': len(y),
                      'xx': lst(X.T @ X), 'xy': lst(X.T @ y), 'yy': float(y @ y)},
        'coefficientDraw': {'seed': 'linear-draw', 'gamma': gv, 'normals': lst(z), 'beta': lst(beta)},
        'request': {'context': ctx, 'candidates': cands, 'mean': lst(m), 'covariance': lst(S), 'sd': lst(sd), 'itemNoise': item,
                    'decision': {'seed': 'linear-decision', 'gamma': gv2, 'normals': lst(z2), 'scores': lst(drawn)},
                    'redraw': {'seed': 'linear-redraw', 'gamma': gv3, 'normals': lst(z3), 'scores': lst(redraw)}},
    })


# ---------------------------------------------------------------- hybrid.json
def gen_hybrid():
    g = np.random.default_rng(11)
    cdim, idim = 2, 2
    dx = cdim + 1
    dz = dx * idim
    lam = PRIOR['lambda']
    item_lam = 10.0 * dx  # hybrid.ts ITEM_PRECISION_PER_FEATURE * d_x: the prior precision of theta_a
    items = ['a', 'b', 'c']
    item_feat = {i: lst(g.normal(size=idim)) for i in items}

    def make_obs(t):
        i = items[int(g.integers(0, 3))] if t > 2 else items[t]
        return {'context': lst(g.normal(size=cdim)), 'id': i, 'item': item_feat[i]}

    def reward():
        return float(np.round(g.choice([0.0, 1.0, g.uniform(), 1.5 * g.normal()]), 12))

    events, obs, y = make_events(g, 60, make_obs, reward)

    def xz(ctx, item):
        x = np.array([1.0] + list(ctx))
        return x, np.kron(x, np.array(item))  # z index a*idim + b

    # joint regression over [beta (dz), theta_a (dx) per item]
    k = dz + dx * len(items)
    Phi = np.zeros((len(obs), k))
    for t, o in enumerate(obs):
        x, z = xz(o['context'], o['item'])
        Phi[t, :dz] = z
        j = items.index(o['id'])
        Phi[t, dz + j * dx: dz + (j + 1) * dx] = x
    P = Phi.T @ Phi + np.diag([lam] * dz + [item_lam] * (k - dz))
    mu, an, bn = nig(P, Phi.T @ y, y @ y, len(y))
    Pinv = np.linalg.inv(P)
    A0 = np.linalg.inv(Pinv[:dz, :dz])
    beta_hat = mu[:dz]
    b0 = A0 @ beta_hat
    # Li et al. quantities per item, and a cross-check of Li's formulas against the joint regression
    per = {}
    A0_li = lam * np.eye(dz)
    b0_li = np.zeros(dz)
    for j, i in enumerate(items):
        rows = [t for t, o in enumerate(obs) if o['id'] == i]
        Xi = np.array([xz(obs[t]['context'], obs[t]['item'])[0] for t in rows])
        Zi = np.array([xz(obs[t]['context'], obs[t]['item'])[1] for t in rows])
        A = Xi.T @ Xi + item_lam * np.eye(dx)
        Bm = Xi.T @ Zi
        bv = Xi.T @ y[rows]
        A0_li += Zi.T @ Zi - Bm.T @ np.linalg.solve(A, Bm)
        b0_li += Zi.T @ y[rows] - Bm.T @ np.linalg.solve(A, bv)
        theta = mu[dz + j * dx: dz + (j + 1) * dx]
        assert np.allclose(theta, np.linalg.solve(A, bv - Bm @ beta_hat), rtol=1e-10, atol=1e-12)
        per[i] = {'A': lst(A), 'B': lst(Bm), 'b': lst(bv), 'theta': lst(theta), 'n': len(rows)}
    assert np.allclose(A0, A0_li, rtol=1e-10, atol=1e-10), 'Li A0 != joint marginal'
    assert np.allclose(b0, b0_li, rtol=1e-10, atol=1e-10), 'Li b0 != joint marginal'

    # a request: items a, b and an unseen item 'new'
    ctx = lst(g.normal(size=cdim))
    cands = [{'id': 'b', 'features': item_feat['b']}, {'id': 'new', 'features': lst(g.normal(size=idim))},
             {'id': 'a', 'features': item_feat['a']}]
    # extend the joint posterior with a prior block for 'new'
    kx = k + dx
    Pext = np.zeros((kx, kx))
    Pext[:k, :k] = P
    Pext[k:, k:] = item_lam * np.eye(dx)
    muext = np.concatenate([mu, np.zeros(dx)])
    Phi_a = np.zeros((len(cands), kx))
    for a, c in enumerate(cands):
        x, z = xz(ctx, c['features'])
        Phi_a[a, :dz] = z
        j = items.index(c['id']) if c['id'] in items else len(items)
        Phi_a[a, dz + j * dx: dz + (j + 1) * dx] = x
    m = Phi_a @ muext
    S = Phi_a @ np.linalg.solve(Pext, Phi_a.T)
    sd = np.sqrt(np.diag(S) * bn / (an - 1))
    # per-item noise (the default): the request's scores have covariance D S D, D = diag(c_a)
    c = noise_scales(cands, obs, y, an, bn, item_x=lambda o: [1.0] + o['context'])
    S_pooled, sd_pooled = S, sd
    S = S * np.outer(c, c)
    sd = c * sd

    # canonical decision draw: Gamma(an,1); dz normals for beta; dx normals per candidate (in order)
    L0 = np.linalg.cholesky(A0)

    def param_draw(r):
        gv = r.gamma(an, 1.0)
        z0 = r.normals(dz)
        zs = [r.normals(dx) for _ in cands]
        sigma = math.sqrt(bn / gv)
        beta = beta_hat + sigma * solve_triangular(L0.T, z0, lower=False)
        thetas, scores = [], []
        for a, c in enumerate(cands):
            if c['id'] in per:
                A = np.array(per[c['id']]['A']).reshape(dx, dx)
                Bm = np.array(per[c['id']]['B']).reshape(dx, dz)
                bv = np.array(per[c['id']]['b'])
            else:
                A, Bm, bv = item_lam * np.eye(dx), np.zeros((dx, dz)), np.zeros(dx)
            La = np.linalg.cholesky(A)
            th = np.linalg.solve(A, bv - Bm @ beta) + sigma * solve_triangular(La.T, zs[a], lower=False)
            thetas.append(th)
            x, z = xz(ctx, c['features'])
            scores.append(z @ beta + x @ th)
        return gv, z0, zs, beta, thetas, np.array(scores)

    r = Rng('hybrid-decision')
    gv, z0, zs, beta, thetas, drawn_params = param_draw(r)
    drawn = m + c * (drawn_params - m)  # item noise: each candidate's deviation scaled by c_a
    # replay of a whole decision (k = 2 slots, 200 propensity re-draws on the split child rng)
    k_slots, draws = 2, 200
    chosen = top_k(drawn, k_slots)
    greedy, used = [], set()
    for j in range(k_slots):
        greedy.append(max((i for i in range(len(cands)) if i not in used), key=lambda i: (m[i], -i)))
        used.add(chosen[j])
    child = r.split()
    F = np.linalg.cholesky(S)
    counts = np.zeros(k_slots)
    # antithetic pairs (slate.ts monteCarloPropensities): one Gamma and one ζ per pair, scores m ± σ F ζ;
    # an odd last draw is a plain one
    draw_rows = []
    for _ in range(draws // 2):
        gvr = child.gamma(an, 1.0)
        p = F @ child.normals(len(cands))
        sr = math.sqrt(bn / gvr)
        draw_rows += [m + sr * p, m - sr * p]
    if draws % 2:
        gvr = child.gamma(an, 1.0)
        draw_rows.append(m + math.sqrt(bn / gvr) * F @ child.normals(len(cands)))
    for s in draw_rows:
        o = top_k(s, k_slots)
        for j in range(k_slots):
            counts[j] += o[j] == chosen[j]
    props = (counts + 1) / (draws + 1)
    r = Rng('hybrid-redraw')
    gv3 = r.gamma(an, 1.0)
    z3 = r.normals(len(cands))
    redraw = m + math.sqrt(bn / gv3) * F @ z3

    dump('hybrid.json', {
        'config': {**PRIOR, 'contextDim': cdim, 'itemDim': idim, 'intercept': True, 'noise': 'item', 'itemLambda': item_lam}, 'dx': dx, 'dz': dz,
        'events': events, 'finalRewards': lst(y),
        'posterior': {'A0': lst(A0), 'b0': lst(b0), 'beta': lst(beta_hat), 'an': an, 'bn': bn, 'n': len(y),
                      'items': per, 'jointMean': lst(mu)},
        'request': {'context': ctx, 'candidates': cands, 'mean': lst(m), 'covariance': lst(S), 'sd': lst(sd),
                    'noiseScale': lst(c), 'covariancePooled': lst(S_pooled), 'sdPooled': lst(sd_pooled),
                    'decision': {'seed': 'hybrid-decision', 'gamma': gv, 'normals0': lst(z0), 'normalsItems': [lst(v) for v in zs],
                                 'beta': lst(beta), 'theta': [lst(t) for t in thetas], 'scores': lst(drawn),
                                 'scoresPooled': lst(drawn_params),
                                 'slots': k_slots, 'propensityDraws': draws, 'chosen': chosen, 'greedy': greedy,
                                 'propensities': lst(props)},
                    'redraw': {'seed': 'hybrid-redraw', 'gamma': gv3, 'normals': lst(z3), 'scores': lst(redraw)}},
    })


def main():
    np.seterr(all='raise')
    gen_rng()
    gen_linalg()
    gen_linear()
    gen_hybrid()


if __name__ == '__main__':
    sys.exit(main())
