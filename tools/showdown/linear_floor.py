#!/usr/bin/env python3
"""Regret floor of a linear policy in an act/skip showdown world (the heavy-tail worlds).

Usage: /usr/bin/python3 tools/showdown/linear_floor.py [world.json.gz ...]
(default: bench/showdown/worlds/heavy-tail-digits.json.gz; more seeds: gen_worlds.py --only <world> --seeds 20 --out DIR)

A learner whose "act" score is linear in [1, context] cannot beat the best fixed linear rule, fitted here on every
row of the dataset with the true expected rewards (no exploration, no noise): least squares on E[r | act, x]
(what LinFullPost / Slotwise `linear` estimate) and, as a lower bound over linear rules, the Bayes threshold of an
(almost unpenalized) logistic fit, act iff P(good | x) > cost of a bad act ÷ (cost of a bad act + cost of a missed good
one). Prints each rule's expected regret over each seed's context stream (mean ± sd, as the showdown counts regret)
next to the committed NumPy LinFullPost reference, so the part of the regret that learning can still remove is visible.
"""
import gzip
import json
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def floor(path):
    w = json.load(gzip.open(path))
    rw = w['reward']
    assert rw['type'] == 'act-skip', f"{w['name']}: not an act/skip world"
    x = np.array(w['rows'], float)
    good = np.array(w['labels']) == rw['goodClass']
    bad_mean = rw['lossProbability'] * rw['loss'] + (1 - rw['lossProbability']) * rw['win']
    act_mean = np.where(good, float(rw['win']), bad_mean)  # skip pays 0
    xc = np.c_[np.ones(len(x)), x]
    beta = np.linalg.lstsq(xc, act_mean, rcond=None)[0]
    miss, wrong = float(rw['win']), -bad_mean  # regret of skipping a good row, of acting on a bad one
    p = LogisticRegression(C=1e4, max_iter=5000).fit(x, good.astype(int)).predict_proba(x)[:, 1]
    rules = {'least squares on E[r|act,x]': xc @ beta > 0, 'logistic, Bayes threshold': p > wrong / (wrong + miss)}
    print(f"{w['name']} ({len(w['seeds'])} seeds, {w['horizon']} decisions)")
    for name, act in rules.items():
        per_row = np.where(good, np.where(act, 0.0, miss), np.where(act, wrong, 0.0))
        r = [per_row[np.array(s['rowIndex'])].sum() for s in w['seeds']]
        print(f"  {name:30s} regret {np.mean(r):7.1f} ± {np.std(r, ddof=1):5.1f}   row error rate {np.mean(act != good):.3f}")
    ref = [s['references']['linfullpost']['regret'] for s in w['seeds']]
    print(f"  {'NumPy LinFullPost':30s} regret {np.mean(ref):7.1f} ± {np.std(ref, ddof=1):5.1f}")


if __name__ == '__main__':
    for path in sys.argv[1:] or [os.path.join(ROOT, 'bench', 'showdown', 'worlds', 'heavy-tail-digits.json.gz')]:
        floor(path)
