#!/usr/bin/env python3
"""Two outside peers for Allied's recommender, on the split bench/ml/offline.ts wrote.

EASE: item-item weights B = P^-1 / (-diag(P^-1)) with P = X^T X + lambda*I,
the diagonal of B zeroed; a learner's scores are x_u B.
Item-kNN: cosine similarity between item columns of X, each item keeping
its k most similar neighbours; a learner's scores are x_u S.

X is the learner x item matrix of the train pairs, either binary or
log(1 + weight). Lambda (EASE), k (kNN) and the form of X are chosen on
an inner time split of the train part only (inner-train.csv /
inner-test.csv); the held-out test split is measured once, with the
chosen setting. Every grid point is printed, to stderr.

Metrics as in src/ml/train/evaluate.ts: for each learner with held-out
items, the learner's train items are excluded, the top 10 taken (ties to
the lower item), NDCG@10 with binary relevance and ideal DCG over
min(10, |held out|), recall@10 = hits / min(10, |held out|).

Usage: python3 bench/ml/ease.py DIR (DIR holds offline.ts's files; its
results.json rows are printed in the same table).
"""
import json
import os
import sys
import time

import numpy as np

K = 10


def read_pairs(path):
    with open(path) as f:
        header = f.readline()
        meta = dict(kv.split("=") for kv in header[1:].split())
        learners, items = int(meta["learners"]), int(meta["items"])
        f.readline()
        rows = np.loadtxt(f, delimiter=",", ndmin=2)
    return learners, items, rows


def matrix(path, form):
    learners, items, rows = read_pairs(path)
    x = np.zeros((learners, items), dtype=np.float64)
    if len(rows):
        u, i, w = rows[:, 0].astype(int), rows[:, 1].astype(int), rows[:, 2]
        x[u, i] = 1.0 if form == "binary" else np.log1p(w)
    return x


def held_out(path):
    learners, items, rows = read_pairs(path)
    test = {}
    for u, i in rows.astype(int):
        test.setdefault(u, []).append(i)
    return test


def metrics(scores, x_train, test):
    discount = 1.0 / np.log2(np.arange(2, K + 2))
    ndcg = recall = 0.0
    for u, items in test.items():
        s = scores[u].astype(np.float64).copy()
        s[x_train[u] > 0] = -np.inf
        # Stable sort on the negated scores: ties go to the lower item, as in evaluate.ts.
        top = np.argsort(-s, kind="stable")[:K]
        top = top[np.isfinite(s[top])]
        relevant = np.zeros(x_train.shape[1], dtype=bool)
        relevant[items] = True
        hits = relevant[top]
        ideal = min(K, len(items))
        ndcg += float((discount[: len(top)] * hits).sum()) / float(discount[:ideal].sum())
        recall += hits.sum() / ideal
    n = len(test)
    return (ndcg / n, recall / n) if n else (0.0, 0.0)


def ease(x, lam):
    g = x.T @ x
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    b[np.diag_indices_from(b)] = 0.0
    return x @ b


def knn(x, k):
    norms = np.linalg.norm(x, axis=0)
    norms[norms == 0] = 1.0
    s = (x.T @ x) / np.outer(norms, norms)
    np.fill_diagonal(s, 0.0)
    if k < s.shape[0]:
        # Keep each item's k most similar neighbours (per column: the items it is scored from).
        cut = np.argpartition(-s, k, axis=0)[k:, :]
        np.put_along_axis(s, cut, 0.0, axis=0)
    return x @ s


def tune(name, fit, grid, forms, directory):
    inner_test = held_out(os.path.join(directory, "inner-test.csv"))
    best = None
    for form in forms:
        x = matrix(os.path.join(directory, "inner-train.csv"), form)
        for value in grid:
            ndcg, recall = metrics(fit(x, value), x, inner_test)
            print(f"  inner split: {name} {form} {value}: NDCG@10 {ndcg:.4f} recall@10 {recall:.4f}", file=sys.stderr)
            if best is None or ndcg > best[0]:
                best = (ndcg, form, value)
    return best[1], best[2]


def measure(name, fit, grid, forms, directory, test):
    form, value = tune(name, fit, grid, forms, directory)
    x = matrix(os.path.join(directory, "train.csv"), form)
    t = time.perf_counter()
    scores = fit(x, value)
    seconds = time.perf_counter() - t
    ndcg, recall = metrics(scores, x, test)
    return {"name": f"{name} ({form} X, {value})", "ndcg10": ndcg, "recall10": recall, "learners": len(test), "trainSeconds": seconds}


def main():
    directory = sys.argv[1]
    test = held_out(os.path.join(directory, "test.csv"))
    forms = ["binary", "log-weight"]
    peers = [
        measure("EASE", ease, [10, 30, 100, 300, 1000], forms, directory, test),
        measure("item-kNN", knn, [10, 25, 50, 100, 200], forms, directory, test),
    ]
    results_file = os.path.join(directory, "results.json")
    results = json.load(open(results_file)) if os.path.exists(results_file) else {"rows": []}
    rows = results["rows"]
    # Peers before the oracle, the ceiling, which stays last.
    oracle = [r for r in rows if r["name"].startswith("oracle")]
    rows = [r for r in rows if not r["name"].startswith("oracle")] + peers + oracle
    if "events" in results:
        print(
            f"Synthetic brand, seed {results['seed']}: {results['learners']} learners x {results['courses']} courses, "
            f"{results['events']} events; split at {results['cutoff']}: {results['trainPairs']} train pairs, "
            f"{results['testPairs']} held-out pairs of {results['testLearners']} learners. {results['machine']}, numpy {np.__version__}."
        )
        print()
    print("| model | NDCG@10 | recall@10 | learners | fit s |")
    print("|---|--:|--:|--:|--:|")
    for r in rows:
        fit = "" if r.get("trainSeconds") is None else f"{r['trainSeconds']:.2f}"
        print(f"| {r['name']} | {r['ndcg10']:.4f} | {r['recall10']:.4f} | {r['learners']} | {fit} |")
    if results.get("endToEndSeconds"):
        print()
        print(
            "trainRecommender end to end in a worker thread (split, held-out run, evaluation, final run on all events): "
            + ", ".join(f"{a.upper()} {s:.2f} s" for a, s in results["endToEndSeconds"].items())
            + f"; default algorithm: {results['defaultAlgorithm'].upper()}."
        )
        print("Fit times: ALS and BPR single-threaded TypeScript (held-out run only); EASE and item-kNN numpy (its BLAS may use every core).")


if __name__ == "__main__":
    main()
