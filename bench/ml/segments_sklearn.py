#!/usr/bin/env python3
"""scikit-learn's KMeans as the outside peer of Allied's learner segmentation.

Reads what bench/ml/segments-offline.ts wrote to DIR: the standardised
features (features.f64, n x d float64), the planted groups (groups.i32),
Allied's assignments (ours.i32) and results.json (n, k, Allied's figures).
Fits sklearn.cluster.KMeans with the same k (k-means++ init, n_init=4 as
Allied's restarts, Lloyd, random_state=0), and scores both segmentations
the same way: adjusted Rand index against the planted groups and the
silhouette on a 5,000-row sample (sklearn.metrics.silhouette_score,
sample_size=5000, random_state=0). Prints one table.

Usage: python3 bench/ml/segments_sklearn.py DIR
"""
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score


def main(folder):
    with open(os.path.join(folder, "results.json")) as f:
        results = json.load(f)
    n, k = results["learners"], results["k"]
    x = np.fromfile(os.path.join(folder, "features.f64"), dtype="<f8").reshape(n, -1)
    groups = np.fromfile(os.path.join(folder, "groups.i32"), dtype="<i4")
    ours = np.fromfile(os.path.join(folder, "ours.i32"), dtype="<i4")

    start = time.perf_counter()
    model = KMeans(n_clusters=k, init="k-means++", n_init=4, algorithm="lloyd", random_state=0).fit(x)
    fit_seconds = time.perf_counter() - start
    theirs = model.labels_

    def sil(labels):
        return silhouette_score(x, labels, sample_size=5000, random_state=0)

    o = results["ours"]
    rows = [
        ("Allied chooseK (k=2..8)", adjusted_rand_score(groups, ours), o["silhouette"], sil(ours), o["inertia"], o["chooseKSeconds"]),
        (f"Allied k-means (k={k})", o["singleKAri"], None, None, None, o["singleKSeconds"]),
        (f"scikit-learn KMeans (k={k})", adjusted_rand_score(groups, theirs), None, sil(theirs), float(model.inertia_), fit_seconds),
    ]
    print(f"planted population: {n} learners x {x.shape[1]} standardised features, seed {results['seed']}; chosen k = {k}; scikit-learn {sklearn.__version__}")
    print("silhouette per k (Allied): " + ", ".join(f"{s['k']}: {s['silhouette']:.4f}" for s in results["scores"]))
    print(f"{'':32} {'ARI':>7} {'silh (ours)':>12} {'silh (sklearn)':>15} {'inertia':>12} {'wall s':>8}")
    fmt = lambda v, w, p: f"{v:>{w}.{p}f}" if v is not None else f"{'-':>{w}}"
    for name, ari, s_ours, s_sk, inertia, secs in rows:
        print(f"{name:32} {ari:>7.4f} {fmt(s_ours, 12, 4)} {fmt(s_sk, 15, 4)} {fmt(inertia, 12, 0)} {secs:>8.2f}")
    print("Allied segments: " + "; ".join(f"{l} ({s})" for l, s in zip(o["labels"], o["sizes"])))
    with open(os.path.join(folder, "sklearn.json"), "w") as f:
        json.dump({"ari": adjusted_rand_score(groups, theirs), "silhouette": sil(theirs), "inertia": float(model.inertia_), "fitSeconds": fit_seconds, "version": sklearn.__version__}, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
