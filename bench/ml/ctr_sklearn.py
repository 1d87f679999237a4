"""The CTR benchmark's outside peer: scikit-learn's LogisticRegression on the
same hashed train/test split that bench/ml/ctr-offline.ts trained Allied's
LR and FM on (fixed-width rows of F int32 bucket indices, 0 = padding, as a
scipy CSR matrix of counts), then one table with every row.

Usage: ctr_sklearn.py BENCH_OUT. C is chosen on a time-ordered validation
slice (the last 20% of the training part), then refit on all of it, so the
peer is tuned as fairly as Allied's defaults were (on another seed).
"""
import json
import os
import sys
import time

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

out = sys.argv[1]
meta = json.load(open(os.path.join(out, "meta.json")))
F, buckets = meta["F"], meta["buckets"]


def load(part):
    idx = np.fromfile(os.path.join(out, f"{part}.indices.i32"), dtype="<i4").reshape(-1, F)
    y = np.fromfile(os.path.join(out, f"{part}.labels.u8"), dtype=np.uint8).astype(np.int64)
    n = idx.shape[0]
    data = (idx != 0).astype(np.float64).ravel()
    x = csr_matrix((data, idx.ravel(), np.arange(0, n * F + 1, F)), shape=(n, buckets))
    x.sum_duplicates()  # a bucket twice in a row counts 2, as the Gather-and-sum does
    x.eliminate_zeros()
    return x, y


x_train, y_train = load("train")
x_test, y_test = load("test")

cut = int(0.8 * x_train.shape[0])  # the training part is in time order
best = None
for c in [0.003, 0.01, 0.03, 0.1, 0.3]:
    m = LogisticRegression(C=c, solver="lbfgs", max_iter=500).fit(x_train[:cut], y_train[:cut])
    score = roc_auc_score(y_train[cut:], m.predict_proba(x_train[cut:])[:, 1])
    if best is None or score > best[1]:
        best = (c, score)
c = best[0]
start = time.perf_counter()
model = LogisticRegression(C=c, solver="lbfgs", max_iter=500).fit(x_train, y_train)
seconds = time.perf_counter() - start
p = model.predict_proba(x_test)[:, 1]

results = json.load(open(os.path.join(out, "results.json")))
rows = [r for r in results["rows"] if not r["name"].startswith("sklearn")] + [
    {"name": f"sklearn LogisticRegression (C={c:g})", "auc": roc_auc_score(y_test, p), "logloss": log_loss(y_test, p), "trainSeconds": seconds}
]
results["rows"] = rows
json.dump(results, open(os.path.join(out, "results.json"), "w"), indent=2)

print(
    f"CTR offline benchmark: seed {results['seed']}, {results['impressions']:,} impressions "
    f"({results['clickRate']:.2%} clicked), F={F}, {buckets:,} buckets; "
    f"{results['trainExamples']:,} train / {results['testExamples']:,} held out (by time), {results['cpus']} CPUs"
)
print(f"{'model':44} {'AUC':>7} {'log-loss':>9} {'train s':>8}")
for r in rows:
    t = "" if r["trainSeconds"] is None else f"{r['trainSeconds']:.2f}"
    print(f"{r['name']:44} {r['auc']:7.4f} {r['logloss']:9.4f} {t:>8}")
by = {r["name"].split(" (")[0]: r for r in rows}
oracle = next(r for r in rows if r["name"].startswith("oracle"))
fm = next(r for r in rows if r["name"].startswith("FM"))
lr = next(r for r in rows if r["name"].startswith("LR"))
sk = rows[-1]
print(f"FM / oracle AUC: {fm['auc'] / oracle['auc']:.4f} (target ≥ 0.97); FM − LR AUC: {fm['auc'] - lr['auc']:+.4f} (target > 0)")
print(f"Allied LR − sklearn LR AUC: {lr['auc'] - sk['auc']:+.4f} (target within ±0.005)")
if results.get("timing"):
    t = results["timing"]
    print(f"full trainCtr (held-out LR + FM, served FM) on {t['impressions']:,} impressions in a worker: {t['seconds']:.1f} s (target ≤ 60 s; generating and encoding them took {t['generateAndEncodeSeconds']:.1f} s)")
