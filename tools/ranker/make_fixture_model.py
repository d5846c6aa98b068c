#!/usr/bin/python3
"""Build the neural-ranker test fixtures for libs/ranker.

Run with Debian's interpreter (it has python3-torch and python3-onnx):

    /usr/bin/python3 tools/ranker/make_fixture_model.py

Writes, into libs/ranker/fixtures/:
  news-mlp.onnx          split signature: inputs  context float32 [1, 16], items float32 [N, 16]
                                          outputs score float32 [N], embedding float32 [N, 8]
  news-mlp-concat.onnx   concat signature: input x float32 [N, 32] (context repeated per item, then item features)
                                          output  score float32 [N]
                         (the same trained weights, so its scores equal news-mlp's on the same data)
  news-mlp.expected.json PyTorch reference outputs for a fixed context + 5 items, training summary
  invalid-*.onnx         deliberately unusable models for the validation specs: a frozen batch axis,
                         a non-finite score on the all-zeros input, an int64 input

Everything is deterministic (fixed seeds, single thread, deterministic algorithms): re-running on the same
torch version reproduces the same weights and the same reference numbers.

The synthetic click data: a user context c ~ N(0, 1)^16 and an item x ~ N(0, 1)^16; the true click
probability is sigmoid(c^T W x / 4 + b^T x - 1.5) with fixed random W, b (an interaction term, which a
context-free model cannot learn, plus an item-popularity term). The MLP sees concat(c, x) and learns the logit.
"""

import json
import math
import os
import sys

import torch
from torch import nn

CONTEXT_DIM = 16
ITEM_DIM = 16
HIDDEN = 64
EMBED = 8
OPSET = 13

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "libs", "ranker", "fixtures")


class Mlp(nn.Module):
    """concat(context, item) -> 64 ReLU -> 8 tanh (the embedding) -> 1 (the click logit)."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(CONTEXT_DIM + ITEM_DIM, HIDDEN)
        self.embed = nn.Linear(HIDDEN, EMBED)
        self.head = nn.Linear(EMBED, 1)

    def forward_pairs(self, x):
        e = torch.tanh(self.embed(torch.relu(self.hidden(x))))
        return self.head(e).squeeze(-1), e


class SplitRanker(nn.Module):
    """Split signature: one context row broadcast over N item rows, all scored in one pass."""

    def __init__(self, mlp):
        super().__init__()
        self.mlp = mlp

    def forward(self, context, items):
        # context [1, 16] -> [N, 16]; the traced items.shape[0] keeps N symbolic in the exported graph.
        ctx = context.expand(items.shape[0], CONTEXT_DIM)
        score, embedding = self.mlp.forward_pairs(torch.cat([ctx, items], dim=1))
        return score, embedding


class ConcatRanker(nn.Module):
    """Concat signature: x [N, 32] = context ⊕ item per row; score only."""

    def __init__(self, mlp):
        super().__init__()
        self.mlp = mlp

    def forward(self, x):
        score, _ = self.mlp.forward_pairs(x)
        return score


def make_data(n, gen, w, b):
    c = torch.randn(n, CONTEXT_DIM, generator=gen)
    x = torch.randn(n, ITEM_DIM, generator=gen)
    logit = ((c @ w) * x).sum(dim=1) / 4.0 + x @ b - 1.5
    p = torch.sigmoid(logit)
    y = (torch.rand(n, generator=gen) < p).float()
    return torch.cat([c, x], dim=1), y, logit


def auc(scores, labels):
    """Rank-based AUC (Mann-Whitney U), ties averaged."""
    s = scores.tolist()
    y = labels.tolist()
    order = sorted(range(len(s)), key=lambda i: s[i])
    ranks = [0.0] * len(s)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and s[order[j + 1]] == s[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    pos = sum(y)
    neg = len(y) - pos
    rank_sum = sum(r for r, t in zip(ranks, y) if t == 1.0)
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)


def main():
    torch.manual_seed(20240611)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    gen = torch.Generator().manual_seed(7)
    w = torch.randn(CONTEXT_DIM, ITEM_DIM, generator=gen)
    b = torch.randn(ITEM_DIM, generator=gen) * 0.5
    x_train, y_train, _ = make_data(20000, gen, w, b)
    x_test, y_test, logit_test = make_data(5000, gen, w, b)

    mlp = Mlp()
    opt = torch.optim.Adam(mlp.parameters(), lr=3e-3, weight_decay=1e-5)
    loss_fn = nn.BCEWithLogitsLoss()
    batch = 256
    epochs = 12
    for epoch in range(epochs):
        perm = torch.randperm(x_train.shape[0], generator=gen)
        for start in range(0, x_train.shape[0], batch):
            idx = perm[start:start + batch]
            logit, _ = mlp.forward_pairs(x_train[idx])
            loss = loss_fn(logit, y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    mlp.eval()
    with torch.no_grad():
        test_logit, _ = mlp.forward_pairs(x_test)
        test_loss = loss_fn(test_logit, y_test).item()
        model_auc = auc(test_logit, y_test)
        oracle_auc = auc(logit_test, y_test)
        base_rate = y_test.mean().item()
    print(f"test log-loss {test_loss:.4f}  AUC {model_auc:.4f} (oracle {oracle_auc:.4f})  click rate {base_rate:.3f}")
    if model_auc < 0.70:
        sys.exit(f"model AUC {model_auc:.3f} too low: the fixture would not rank meaningfully")

    split = SplitRanker(mlp).eval()
    concat = ConcatRanker(mlp).eval()
    os.makedirs(OUT_DIR, exist_ok=True)

    # Export: dummy inputs with N = 3 (not 1, so no dimension is specialised to a constant).
    ex_ctx = torch.zeros(1, CONTEXT_DIM)
    ex_items = torch.zeros(3, ITEM_DIM)
    split_path = os.path.join(OUT_DIR, "news-mlp.onnx")
    torch.onnx.export(
        split, (ex_ctx, ex_items), split_path,
        input_names=["context", "items"], output_names=["score", "embedding"],
        dynamic_axes={"items": {0: "N"}, "score": {0: "N"}, "embedding": {0: "N"}},
        opset_version=OPSET, do_constant_folding=True,
    )
    concat_path = os.path.join(OUT_DIR, "news-mlp-concat.onnx")
    torch.onnx.export(
        concat, (torch.zeros(3, CONTEXT_DIM + ITEM_DIM),), concat_path,
        input_names=["x"], output_names=["score"],
        dynamic_axes={"x": {0: "N"}, "score": {0: "N"}},
        opset_version=OPSET, do_constant_folding=True,
    )

    import onnx
    for path in (split_path, concat_path):
        model = onnx.load(path)
        onnx.checker.check_model(model)
        model.producer_name = "slotwise tools/ranker/make_fixture_model.py"
        model.doc_string = "Slotwise test fixture: MLP click ranker trained on synthetic data"
        onnx.save(model, path)
        size = os.path.getsize(path)
        print(f"wrote {os.path.relpath(path, ROOT)} ({size} bytes)")
        if size >= 200 * 1024:
            sys.exit(f"{path} is {size} bytes, over the 200 KB budget")

    # Deliberately broken models, for the upload-validation specs.
    fixed_path = os.path.join(OUT_DIR, "invalid-fixed-batch.onnx")
    torch.onnx.export(  # no dynamic_axes: the batch axis is frozen at 3
        split, (ex_ctx, ex_items), fixed_path,
        input_names=["context", "items"], output_names=["score", "embedding"], opset_version=OPSET,
    )
    from onnx import TensorProto, helper
    # score = log(mean(x, axis 1)): -inf on the all-zeros test input, NaN on negative inputs.
    nan_graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=0), helper.make_node("Log", ["m"], ["score"])],
        "log_mean",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
    )
    # An int64 input: not a float32 feature matrix.
    int_graph = helper.make_graph(
        [helper.make_node("Cast", ["ids"], ["f"], to=TensorProto.FLOAT),
         helper.make_node("ReduceMean", ["f"], ["score"], axes=[1], keepdims=0)],
        "int_input",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 4])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N"])],
    )
    for name, graph in (("invalid-nonfinite.onnx", nan_graph), ("invalid-int64-input.onnx", int_graph)):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="slotwise")
        model.ir_version = 7
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(OUT_DIR, name))
        print(f"wrote libs/ranker/fixtures/{name}")

    # Reference input: a fixed context and 5 items, drawn from a separate seeded generator.
    ref_gen = torch.Generator().manual_seed(42)
    context = torch.randn(1, CONTEXT_DIM, generator=ref_gen)
    items = torch.randn(5, ITEM_DIM, generator=ref_gen)
    with torch.no_grad():
        score, embedding = split(context, items)
        concat_score = concat(torch.cat([context.expand(5, CONTEXT_DIM), items], dim=1))
        true_p = torch.sigmoid(((context @ w) * items).sum(dim=1) / 4.0 + items @ b - 1.5)
    assert torch.allclose(score, concat_score, atol=1e-6)

    def floats(t):
        # float32 -> Python float is exact, and repr round-trips, so JSON carries the exact float32 values.
        return [float(v) for v in t.reshape(-1).tolist()]

    expected = {
        "generator": "tools/ranker/make_fixture_model.py",
        "torch": torch.__version__,
        "opset": OPSET,
        "models": {
            "news-mlp.onnx": {
                "signature": {"kind": "split", "contextInput": "context", "itemsInput": "items",
                              "scoreOutput": "score", "embeddingOutput": "embedding"},
            },
            "news-mlp-concat.onnx": {
                "signature": {"kind": "concat", "input": "x", "scoreOutput": "score", "contextDim": CONTEXT_DIM},
            },
        },
        "contextDim": CONTEXT_DIM,
        "itemDim": ITEM_DIM,
        "embeddingDim": EMBED,
        "n": 5,
        "context": floats(context),
        "items": floats(items),
        "scores": floats(score),
        "embeddings": floats(embedding),
        "trueClickProbability": floats(true_p),
        "training": {
            "examples": int(x_train.shape[0]), "epochs": epochs,
            "testLogLoss": round(test_loss, 6), "testAuc": round(model_auc, 6),
            "oracleAuc": round(oracle_auc, 6), "clickRate": round(base_rate, 6),
        },
    }
    json_path = os.path.join(OUT_DIR, "news-mlp.expected.json")
    with open(json_path, "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    print(f"wrote {os.path.relpath(json_path, ROOT)}")
    print("scores", [round(v, 4) for v in floats(score)])
    print("true p", [round(v, 4) for v in floats(true_p)])


if __name__ == "__main__":
    main()
