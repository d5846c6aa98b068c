#!/usr/bin/python3
"""Golden files for libs/ope, computed by Open Bandit Pipeline (OBP) itself on the Open Bandit Dataset sample.

    OBP_SRC=/path/to/zr-obp /usr/bin/python3 tools/ope/gen_golden.py      # or: ... gen_golden.py /path/to/zr-obp
    # writes libs/ope/src/__golden__/{obd,slate,bootstrap,reward_model}.json

Getting OBP (its code is NOT committed here; Apache-2.0, st-tech/zr-obp at commit 8cbd5fa4558b7ad2ba4781546d6604e4cc3e07c4):
the session tool `fetch github:st-tech/zr-obp` gives a bare git directory; extract the package with
    R=<git dir>; mkdir -p /tmp/obp-src && for f in $(git -C $R ls-tree -r --name-only HEAD obp | grep -v '\\.csv$'); do
      mkdir -p /tmp/obp-src/$(dirname $f); git -C $R show HEAD:$f > /tmp/obp-src/$f; done
(or `git clone https://github.com/st-tech/zr-obp && git checkout 8cbd5fa`), then pass the folder that holds `obp/`.
Debian packages: python3-numpy python3-scipy python3-sklearn python3-pandas python3-yaml python3-tqdm
python3-matplotlib python3-seaborn.

How OBP is imported (documented shims, nothing of the estimators is replaced):
- `obp/utils.py` imports torch at module level, only for `check_tensor` (used by OBP's neural policy learners,
  not by any estimator, dataset or context-free policy used here). Torch is not packaged for Debian, so a
  placeholder module named `torch` (with an inert `Tensor` class) is put in sys.modules before importing OBP.
- `obp/__init__.py` and `obp/policy/__init__.py` import the torch-based offline learners, so the packages `obp`
  and `obp.policy` are registered as bare packages (their __path__ only) and the needed submodules
  (`obp.ope`, `obp.dataset`, `obp.policy.contextfree`) are imported normally from OBP's own files.

What is computed (all logs read from the COMMITTED copies in libs/ope/data/obd, file order kept, no sorting):
- obd.json: per log (random/bts x men/women): on-policy value (mean click), and for two evaluation policies
  (uniform random; OBP's BernoulliTS with the ZOZOTOWN prior, its action distribution by OBP's own Monte-Carlo
  `compute_batch_action_dist`, stored here and used as an INPUT by the tests) OBP's IPW, SNIPW, IPW with clipping,
  the round rewards' normal interval (SciPy), effective sample size and largest weight; and, on the first N_DM rounds, OBP's DM, DR,
  SNDR, Switch-DR and clipped DR (and OBP's seeded bootstrap interval of DR, NumPy RandomState, compared
  statistically in TS) fed with OBP's RegressionModel (sklearn LogisticRegression, cross-fitting)
  predictions rounded to 6 significant digits. The rounded q-hat array is stored and fed to BOTH OBP and the
  TypeScript estimators, so estimator arithmetic is compared at 1e-9 whatever the model. Also OBP's standard
  check: the uniform-random policy's value estimated from the BTS logs (full data; DM/DR with OBP's fitted model)
  against the on-policy value of the random logs.
- reward_model.json: sklearn LogisticRegression (newton-cholesky, tol 1e-12) on the SAME design, folds and penalty as
  libs/ope's `fitRewardModel` (see libs/ope/src/reward-model.ts), with DM / DR values; the TS Newton fit is
  compared to it with a documented tolerance.
- bootstrap.json: the percentile bootstrap of libs/ope replayed with a Python port of libs/bandit's Rng
  (imported from tools/bandit/gen_golden.py), exact.
- slate.json: OBP's SyntheticSlateBanditDataset (factorizable logging, independent slot rewards) and OBP's
  SlateStandardIPS / SlateIndependentIPS / SlateRewardInteractionIPS; the pseudo-inverse estimator (OBP has
  none) computed here with NumPy from its formula. (OBP's calc_ground_truth_policy_value is not used: with
  is_factorizable=True it returned 867 for slate values near 1.8, i.e. not a per-slate mean.)
"""
import gzip
import importlib
import io
import json
import math
import os
import sys
import types

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DATA = os.path.join(ROOT, 'libs', 'ope', 'data', 'obd')
OUT = os.path.join(ROOT, 'libs', 'ope', 'src', '__golden__')
LOGS = [('random', 'men'), ('bts', 'men'), ('random', 'women'), ('bts', 'women')]
N_DM = 300  # rounds of the stored q-hat per log (size of the golden file)
CLIP = 20.0  # lambda for clipped IPW / DR and Switch-DR
ALPHA = 0.05
N_BOOT = 4000  # OBP bootstrap resamples (on the first N_DM rounds, so the TS comparison stays fast)
SEED = 12345


def import_obp():
    src = sys.argv[1] if len(sys.argv) > 1 else os.environ.get('OBP_SRC')
    if not src or not os.path.isdir(os.path.join(src, 'obp')):
        sys.exit('give the folder that holds OBP\'s obp/ package as argument or OBP_SRC (see the docstring)')
    sys.path.insert(0, src)
    torch = types.ModuleType('torch')  # placeholder: only obp.utils.check_tensor refers to it
    torch.Tensor = type('Tensor', (), {})
    torch.tensor = torch.Tensor
    sys.modules.setdefault('torch', torch)
    for pkg in ['obp', 'obp.policy']:
        mod = types.ModuleType(pkg)
        mod.__path__ = [os.path.join(src, *pkg.split('.'))]
        sys.modules[pkg] = mod
    ope = importlib.import_module('obp.ope')
    dataset = importlib.import_module('obp.dataset')
    contextfree = importlib.import_module('obp.policy.contextfree')
    return ope, dataset, contextfree


def load_log(behavior, campaign):
    with gzip.open(os.path.join(DATA, f'{behavior}-{campaign}.csv.gz'), 'rb') as f:
        df = pd.read_csv(io.BytesIO(f.read()), index_col=0)
    return df


def lst(a):
    return [float(x) for x in np.asarray(a, dtype=float).ravel()]


def dump(name, obj):
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print('wrote', path, os.path.getsize(path), 'bytes')


def round_sig(x, sig=6):
    # exact decimal round trip: the stored JSON numbers parse back to the same doubles in JS and Python
    return np.array([float(f'{v:.{sig - 1}e}') for v in np.asarray(x).ravel()]).reshape(np.shape(x))


def normal_interval(round_rewards, alpha=ALPHA):
    n = len(round_rewards)
    mean = float(np.mean(round_rewards))
    se = float(np.std(round_rewards, ddof=1) / math.sqrt(n))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return {'mean': mean, 'standardError': se, 'lower': mean - z * se, 'upper': mean + z * se}


def weight_stats(w):
    w = np.asarray(w, dtype=float)
    return {'ess': float(w.sum() ** 2 / (w ** 2).sum()), 'maxWeight': float(w.max()), 'meanWeight': float(w.mean())}


def bts_action_dist(contextfree, campaign, n_actions):
    policy = contextfree.BernoulliTS(
        n_actions=n_actions, len_list=3, is_zozotown_prior=True, campaign=campaign, random_state=SEED
    )
    return policy.compute_batch_action_dist(n_rounds=1, n_sim=100000)[0]  # (n_actions, len_list), same every round


def gen_obd(ope, contextfree):
    out = {'alpha': ALPHA, 'clip': CLIP, 'nDm': N_DM, 'seed': SEED, 'logs': {}}
    logs = {}
    for behavior, campaign in LOGS:
        df = load_log(behavior, campaign)
        n_actions = {'men': 34, 'women': 46}[campaign]
        logs[(behavior, campaign)] = df
        out['logs'][f'{behavior}-{campaign}'] = {
            'n': int(len(df)),
            'nActions': n_actions,
            'clicks': int(df.click.sum()),
            'onPolicyValue': float(df.click.mean()),
        }
    policies = {}
    for campaign in ['men', 'women']:
        n_actions = {'men': 34, 'women': 46}[campaign]
        policies[(campaign, 'uniform')] = np.full((n_actions, 3), 1.0 / n_actions)
        policies[(campaign, 'bts')] = bts_action_dist(contextfree, campaign, n_actions)
    out['policies'] = {f'{c}-{p}': [lst(row) for row in m] for (c, p), m in policies.items()}

    for behavior, campaign in LOGS:
        df = logs[(behavior, campaign)]
        g = out['logs'][f'{behavior}-{campaign}']
        n_actions = g['nActions']
        action = df.item_id.values.astype(int)
        position = df.position.values.astype(int) - 1
        reward = df.click.values.astype(float)
        pscore = df.propensity_score.values.astype(float)
        n = len(df)
        context = pd.get_dummies(df.loc[:, df.columns.str.contains('user_feature')], drop_first=True).values.astype(float)
        reg = ope.RegressionModel(
            n_actions=n_actions, len_list=3,
            base_model=LogisticRegression(C=100, max_iter=10000, random_state=SEED),
        )
        q_hat_full = reg.fit_predict(
            context=context, action=action, reward=reward, position=position, n_folds=3, random_state=SEED
        )
        g['estimates'] = {}
        for pname in ['uniform', 'bts']:
            dist = policies[(campaign, pname)]
            action_dist = np.tile(dist, (n, 1, 1))
            kw = dict(reward=reward, action=action, pscore=pscore, position=position, action_dist=action_dist)
            w = dist[action, position] / pscore
            res = {}
            for name, est in [('ips', ope.InverseProbabilityWeighting()),
                              ('snips', ope.SelfNormalizedInverseProbabilityWeighting()),
                              ('ipsClipped', ope.InverseProbabilityWeighting(lambda_=CLIP))]:
                rr = est._estimate_round_rewards(**kw)
                res[name] = {'value': float(est.estimate_policy_value(**kw)), 'normal': normal_interval(rr)}
            res['weights'] = weight_stats(w)
            res['weightsClipped'] = weight_stats(np.minimum(w, CLIP))
            # model-based estimators on the first N_DM rounds, with the stored (rounded) q-hat
            m = N_DM
            q_hat = round_sig(q_hat_full[:m])
            kw_dm = dict(reward=reward[:m], action=action[:m], pscore=pscore[:m], position=position[:m],
                         action_dist=action_dist[:m], estimated_rewards_by_reg_model=q_hat)
            dm_res = {}
            for name, est in [('dm', ope.DirectMethod()), ('dr', ope.DoublyRobust()),
                              ('sndr', ope.SelfNormalizedDoublyRobust()),
                              ('switchDr', ope.SwitchDoublyRobust(lambda_=CLIP)),
                              ('drClipped', ope.DoublyRobust(lambda_=CLIP)),
                              ('ips', ope.InverseProbabilityWeighting()),
                              ('snips', ope.SelfNormalizedInverseProbabilityWeighting())]:
                rr = est._estimate_round_rewards(**kw_dm)
                dm_res[name] = {'value': float(est.estimate_policy_value(**kw_dm)), 'normal': normal_interval(rr)}
                if name == 'dr':
                    # OBP's percentile bootstrap (NumPy RandomState(SEED).choice per resample)
                    ci = list(est.estimate_interval(**kw_dm, alpha=ALPHA, n_bootstrap_samples=N_BOOT,
                                                    random_state=SEED).values())
                    dm_res[name]['bootstrapObp'] = {'lower': float(ci[1]), 'upper': float(ci[2]), 'nBootstrap': N_BOOT}
            res['firstRounds'] = dm_res
            # OBP's standard check uses its own fitted model on the full log
            kw_full = dict(kw, estimated_rewards_by_reg_model=q_hat_full)
            res['fullModelBased'] = {
                name: float(est.estimate_policy_value(**kw_full))
                for name, est in [('dm', ope.DirectMethod()), ('dr', ope.DoublyRobust()),
                                  ('sndr', ope.SelfNormalizedDoublyRobust())]
            }
            g['estimates'][pname] = res
        # q-hat at each round's own position, (N_DM, n_actions), the only slice the estimators read
        g['qHatFirstRounds'] = [lst(round_sig(q_hat_full[i, :, position[i]])) for i in range(N_DM)]
    # OBP's standard check: uniform random policy evaluated on BTS logs vs the on-policy value of random logs
    out['standardCheck'] = {}
    for campaign in ['men', 'women']:
        truth = out['logs'][f'random-{campaign}']['onPolicyValue']
        est = out['logs'][f'bts-{campaign}']['estimates']['uniform']
        vals = {'ips': est['ips']['value'], 'snips': est['snips']['value'], **est['fullModelBased']}
        out['standardCheck'][campaign] = {
            'groundTruth': truth,
            'estimates': vals,
            'relativeError': {k: abs(v - truth) / truth for k, v in vals.items()},
        }
    dump('obd.json', out)
    return logs


# ------------------------------------------------------------------ the TS reward model's design, in sklearn
def design(df, n_actions):
    """[one-hot of each user_feature column (categories sorted as strings)] ++ [one-hot action]; per position."""
    blocks = []
    for j in range(4):
        col = df[f'user_feature_{j}'].astype(str).values
        cats = sorted(set(col))
        idx = {c: k for k, c in enumerate(cats)}
        oh = np.zeros((len(df), len(cats)))
        oh[np.arange(len(df)), [idx[c] for c in col]] = 1.0
        blocks.append(oh)
    return np.hstack(blocks)


def gen_reward_model(logs, policies_json):
    k_folds, l2 = 3, 1.0
    out = {'folds': k_folds, 'l2': l2, 'logs': {}}
    for behavior, campaign in LOGS:
        df = logs[(behavior, campaign)]
        n_actions = {'men': 34, 'women': 46}[campaign]
        n = len(df)
        ctx = design(df, n_actions)
        action = df.item_id.values.astype(int)
        position = df.position.values.astype(int) - 1
        reward = df.click.values.astype(float)
        pscore = df.propensity_score.values.astype(float)
        fold = (np.arange(n) * k_folds) // n  # contiguous blocks, as fitRewardModel
        q = np.zeros((n, n_actions))  # q-hat at each round's own position
        eye = np.eye(n_actions)
        for k in range(k_folds):
            for p in range(3):
                tr = (fold != k) & (position == p)
                te = np.where((fold == k) & (position == p))[0]
                X = np.hstack([ctx[tr], eye[action[tr]]])
                # sklearn minimises C * sum(logloss) + 0.5 ||w||^2 (intercept unpenalised) = our sum + l2/2 ||w||^2
                # newton-cholesky reaches the optimum (coefficients within ~1e-12 of a NumPy Newton); lbfgs stops early
                # on its ftol criterion with coefficients ~1e-4 off, i.e. q-hat several % off for rare actions
                lr = LogisticRegression(C=1.0 / l2, tol=1e-12, max_iter=1000, solver='newton-cholesky')
                lr.fit(X, reward[tr])
                for a in range(n_actions):
                    Xa = np.hstack([ctx[te], np.tile(eye[a], (len(te), 1))])
                    q[te, a] = lr.predict_proba(Xa)[:, 1]
        res = {'qHatHead': [lst(q[i]) for i in range(5)], 'meanQHat': float(q.mean()), 'estimates': {}}
        for pname in ['uniform', 'bts']:
            dist = np.array(policies_json[f'{campaign}-{pname}'])
            pi = dist[:, position].T  # (n, n_actions) at each round's position
            w = dist[action, position] / pscore
            qf = q[np.arange(n), action]
            dm = (pi * q).sum(1) / pi.sum(1)
            res['estimates'][pname] = {'dm': float(dm.mean()), 'dr': float((dm + w * (reward - qf)).mean())}
        out['logs'][f'{behavior}-{campaign}'] = res
    dump('reward_model.json', out)


# ------------------------------------------------------------------ bootstrap replay with the Rng port
def gen_bootstrap():
    sys.path.insert(0, os.path.join(ROOT, 'tools', 'bandit'))
    from gen_golden import Rng  # noqa: E402  (libs/bandit's Python port of rng.ts)

    base = np.random.RandomState(7)
    samples = np.round(base.exponential(size=150) * (base.uniform(size=150) < 0.3), 6)
    cases = []
    for seed, n_boot, alpha in [('ope-bootstrap', 400, 0.05), (42, 250, 0.1)]:
        rng = Rng(seed)
        n = len(samples)
        means = []
        for _ in range(n_boot):
            s = 0.0
            for _ in range(n):
                s += samples[int(math.floor(rng.uniform() * n))]
            means.append(s / n)
        cases.append({
            'seed': seed, 'nBootstrap': n_boot, 'alpha': alpha,
            'lower': float(np.percentile(means, 100 * alpha / 2)),
            'upper': float(np.percentile(means, 100 * (1 - alpha / 2))),
            'meanOfMeans': float(np.mean(means)),
            'firstMeans': lst(means[:5]),
        })
    dump('bootstrap.json', {'samples': lst(samples), 'cases': cases})


# ------------------------------------------------------------------ slates
def gen_slate(ope, dataset):
    n_rounds, n_items, k = 500, 6, 3
    ds = dataset.SyntheticSlateBanditDataset(
        n_unique_action=n_items, len_list=k, dim_context=2, reward_type='binary', reward_structure='independent',
        is_factorizable=True, behavior_policy_function=dataset.linear_behavior_policy_logit, random_state=SEED,
    )
    fb = ds.obtain_batch_bandit_feedback(n_rounds=n_rounds, return_pscore_item_position=True)
    logit = np.random.RandomState(SEED + 1).normal(size=(n_rounds, n_items))
    e_pscore, e_item_pos, e_cascade = ds.obtain_pscore_given_evaluation_policy_logit(
        action=fb['action'], evaluation_policy_logit_=logit, return_pscore_item_position=True
    )
    common = dict(slate_id=fb['slate_id'], reward=fb['reward'], position=fb['position'])
    sips = ope.SlateStandardIPS(len_list=k).estimate_policy_value(
        **common, pscore=fb['pscore'], evaluation_policy_pscore=e_pscore)
    iips = ope.SlateIndependentIPS(len_list=k).estimate_policy_value(
        **common, pscore_item_position=fb['pscore_item_position'], evaluation_policy_pscore_item_position=e_item_pos)
    rips = ope.SlateRewardInteractionIPS(len_list=k).estimate_policy_value(
        **common, pscore_cascade=fb['pscore_cascade'], evaluation_policy_pscore_cascade=e_cascade)
    # pseudo-inverse (Swaminathan et al. 2017) for a factorised logging policy: slate reward times
    # (sum_k pi(a_k at k)/mu(a_k at k) - K + 1)
    w = (e_item_pos / fb['pscore_item_position']).reshape(n_rounds, k)
    slate_reward = fb['reward'].reshape(n_rounds, k).sum(1)
    pi_round = slate_reward * (w.sum(1) - k + 1)
    dump('slate.json', {
        'nSlates': n_rounds, 'nItems': n_items, 'slots': k, 'alpha': ALPHA,
        'action': [int(a) for a in fb['action']],
        'reward': lst(fb['reward']),
        'pscore': lst(fb['pscore']), 'pscoreItemPosition': lst(fb['pscore_item_position']),
        'pscoreCascade': lst(fb['pscore_cascade']),
        'evaluationPscore': lst(e_pscore), 'evaluationPscoreItemPosition': lst(e_item_pos),
        'evaluationPscoreCascade': lst(e_cascade),
        'sips': float(sips), 'iips': float(iips), 'rips': float(rips),
        'pseudoInverse': {'value': float(pi_round.mean()), 'normal': normal_interval(pi_round)},
        'iipsNormal': normal_interval((fb['reward'] * e_item_pos / fb['pscore_item_position']).reshape(n_rounds, k).sum(1)),
    })


def main():
    os.makedirs(OUT, exist_ok=True)
    ope, dataset, contextfree = import_obp()
    gen_bootstrap()
    gen_slate(ope, dataset)
    logs = gen_obd(ope, contextfree)
    with open(os.path.join(OUT, 'obd.json')) as f:
        policies = json.load(f)['policies']
    gen_reward_model(logs, policies)


if __name__ == '__main__':
    main()
