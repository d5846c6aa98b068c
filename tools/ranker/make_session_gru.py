#!/usr/bin/python3
"""Build the sequence-ranker fixture (issue 17 part 4): a small GRU over the unit's last K interacted items.

Run with Debian's interpreter (python3-torch 1.13, python3-onnx):

    /usr/bin/python3 tools/ranker/make_session_gru.py

Writes, into libs/ranker/fixtures/:
  session-gru.onnx            split signature with a history input:
                                inputs  context float32 [1, 4], items float32 [N, 8], history float32 [1, 5, 8]
                                output  score float32 [N] (click logit)
  session-gru.expected.json   PyTorch reference scores for fixed inputs (the specs require onnxruntime to match
                              them to 1e-5), and the training summary
  session-intent.world.json   the simulator world the model was trained on (apps/simulator/src/worlds/session-intent.ts
                              reads it): the catalog's item features and the true click model's coefficients

The world ("session intent"): 40 items in 4 categories; an item's features are its category one-hot (4) and 4
style values. A unit has a long-term taste c (4 values, its context). Each session has an intent, one of the 4
categories, drawn uniformly and switched to a fresh draw with probability 0.05 after every step; the true click
probability of item x is

    sigmoid(intentBoost * [category(x) == intent] + tasteWeight * c . style(x) + popularity . style(x) + bias)

The intent is not in the context: only the session's recent clicks reveal it, so a ranker that sees the unit's last
K clicked items (newest first, zero-padded) can rank the intended category first, and one without cannot.

Training data: 8,000 sessions of 12 steps under a uniform logging policy (one of 10 random candidates shown per
step); a click puts the item at the head of the history. The GRU reads the history oldest-first (the zero padding
first); its last hidden state and the context make the user tower, whose dot product with the item tower (plus an
item bias) is the click logit. Deterministic: fixed seeds, one
thread, deterministic algorithms.
"""

import json
import math
import os

import numpy as np
import torch
from torch import nn

CONTEXT_DIM = 4
ITEM_DIM = 8
CATEGORIES = 4
ITEMS = 40
HISTORY = 5
HIDDEN = 16
TOWER = 16
EPOCHS = 8
OPSET = 13

WORLD = {
    "intentBoost": 4.0,
    "tasteWeight": 0.4,
    "bias": -3.0,
    "switchProbability": 0.05,
    "sessionLength": 12,
    "candidates": 10,
    "historyLength": HISTORY,
}

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "libs", "ranker", "fixtures")


def make_world(rng):
    """Catalog item features (category one-hot, then 4 style values) and the popularity weights."""
    items = np.zeros((ITEMS, ITEM_DIM))
    for i in range(ITEMS):
        items[i, i % CATEGORIES] = 1.0
    items[:, CATEGORIES:] = np.round(rng.normal(0.0, 0.7, size=(ITEMS, ITEM_DIM - CATEGORIES)), 4)
    popularity = np.round(rng.normal(0.0, 0.4, size=ITEM_DIM - CATEGORIES), 4)
    return items, popularity


def click_logit(items, popularity, c, intent, idx):
    x = items[idx]
    style = x[..., CATEGORIES:]
    return WORLD["intentBoost"] * (x[..., intent] == 1.0) + WORLD["tasteWeight"] * style @ c + style @ popularity + WORLD["bias"]


def simulate(rng, items, popularity, sessions):
    """Uniform logging policy: per step one random candidate of 10 is shown; returns the training samples."""
    ctx, hist, item, click, truth = [], [], [], [], []
    for _ in range(sessions):
        c = rng.normal(0.0, 1.0, size=CONTEXT_DIM)
        intent = rng.integers(CATEGORIES)
        history = []  # item indices, newest first
        for _ in range(WORLD["sessionLength"]):
            cands = rng.choice(ITEMS, size=WORLD["candidates"], replace=False)
            shown = cands[rng.integers(WORLD["candidates"])]
            logit = click_logit(items, popularity, c, intent, shown)
            truth.append(logit)
            p = 1.0 / (1.0 + math.exp(-logit))
            y = float(rng.random() < p)
            h = np.zeros((HISTORY, ITEM_DIM))
            for k, j in enumerate(history[:HISTORY]):
                h[k] = items[j]
            ctx.append(c)
            hist.append(h)
            item.append(items[shown])
            click.append(y)
            if y:
                history.insert(0, int(shown))
            if rng.random() < WORLD["switchProbability"]:
                intent = rng.integers(CATEGORIES)
    t = lambda a: torch.tensor(np.array(a), dtype=torch.float32)
    return t(ctx), t(hist), t(item), t(click), np.array(truth)


class SessionGru(nn.Module):
    """Two towers: user = W_u [context, GRU(history)], item = W_i x; score = user . item + w . x + b.

    The history [B, K, D] (newest first) is read oldest first by the GRU (the zero padding first); its last hidden
    state summarises the session. The dot product lets the session state select item categories directly (the true
    click logit is bilinear in the intent and the category, and in the taste and the style).
    """

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(ITEM_DIM, HIDDEN, batch_first=True)
        self.user = nn.Linear(CONTEXT_DIM + HIDDEN, TOWER)
        self.item = nn.Linear(ITEM_DIM, TOWER, bias=False)
        self.bias = nn.Linear(ITEM_DIM, 1)

    def state(self, history):
        _, h = self.gru(torch.flip(history, [1]))
        return h[0]

    def forward_pairs(self, context, h, items):
        u = self.user(torch.cat([context, h], dim=1))
        return (u * self.item(items)).sum(dim=1) + self.bias(items).squeeze(-1)


class SplitSequenceRanker(nn.Module):
    """Split signature with a history input: context [1, C], items [N, D], history [1, K, D] -> score [N]."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, context, items, history):
        n = items.shape[0]
        h = self.model.state(history).expand(n, HIDDEN)
        return self.model.forward_pairs(context.expand(n, CONTEXT_DIM), h, items)


def auc(scores, labels):
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def main():
    torch.manual_seed(20261129)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(17)
    items, popularity = make_world(rng)
    train = simulate(rng, items, popularity, 8000)
    test = simulate(rng, items, popularity, 1000)

    model = SessionGru()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(3)
    n = train[0].shape[0]
    for epoch in range(EPOCHS):
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, 512):
            b = perm[s : s + 512]
            logit = model.forward_pairs(train[0][b], model.state(train[1][b]), train[2][b])
            loss = loss_fn(logit, train[3][b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        labels = test[3].numpy()
        with_history = model.forward_pairs(test[0], model.state(test[1]), test[2]).numpy()
        without = model.forward_pairs(test[0], model.state(torch.zeros_like(test[1])), test[2]).numpy()
        summary = {
            "trainSamples": int(n),
            "testSamples": int(labels.shape[0]),
            "testClickRate": round(float(labels.mean()), 6),
            "testAucWithHistory": round(auc(with_history, labels), 6),
            "testAucHistoryZeroed": round(auc(without, labels), 6),
            "testAucTrueLogit": round(auc(test[4], labels), 6),
            "finalTrainLoss": round(float(loss.item()), 6),
        }

    os.makedirs(OUT_DIR, exist_ok=True)
    ranker = SplitSequenceRanker(model).eval()
    path = os.path.join(OUT_DIR, "session-gru.onnx")
    torch.onnx.export(
        ranker,
        (torch.zeros(1, CONTEXT_DIM), torch.zeros(3, ITEM_DIM), torch.zeros(1, HISTORY, ITEM_DIM)),
        path,
        input_names=["context", "items", "history"],
        output_names=["score"],
        dynamic_axes={"items": {0: "N"}, "score": {0: "N"}},
        opset_version=OPSET,
    )

    # Reference: a fixed context, 5 items of the catalog and a history of 2 clicked items (then zero padding).
    context = torch.tensor([[0.5, -1.0, 0.25, 2.0]])
    ref_items = torch.tensor(items[[0, 1, 2, 3, 9]], dtype=torch.float32)
    history = torch.zeros(1, HISTORY, ITEM_DIM)
    history[0, 0] = torch.tensor(items[6], dtype=torch.float32)
    history[0, 1] = torch.tensor(items[10], dtype=torch.float32)
    with torch.no_grad():
        scores = ranker(context, ref_items, history)
        empty = ranker(context, ref_items, torch.zeros(1, HISTORY, ITEM_DIM))
    expected = {
        "generator": "tools/ranker/make_session_gru.py",
        "torch": torch.__version__,
        "opset": OPSET,
        "signature": {"kind": "split", "contextInput": "context", "itemsInput": "items", "historyInput": "history", "scoreOutput": "score"},
        "context": context[0].tolist(),
        "items": ref_items.tolist(),
        "history": history[0].tolist(),
        "scores": scores.tolist(),
        "scoresEmptyHistory": empty.tolist(),
        "training": summary,
    }
    with open(os.path.join(OUT_DIR, "session-gru.expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    world = {
        "generator": "tools/ranker/make_session_gru.py",
        "description": "session intent: 40 items in 4 categories; the session's intent (a category, switched with probability 0.05 per step) drives clicks and is visible only through the recent clicks",
        **WORLD,
        "contextDim": CONTEXT_DIM,
        "itemDim": ITEM_DIM,
        "categories": CATEGORIES,
        "popularity": popularity.tolist(),
        "items": items.tolist(),
    }
    with open(os.path.join(OUT_DIR, "session-intent.world.json"), "w") as f:
        json.dump(world, f, indent=1)
        f.write("\n")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
