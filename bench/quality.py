#!/usr/bin/env python3
"""The quality recipe's test scores, one run per seed: `siamese -f
examples/quality.yaml run --set train.seed=N` from an empty root, under
/usr/bin/time -v, one after another. Records the table docs/quality.md
quotes (kNN-5 and kNN-1 on the never-trained test images, ROC AUC on the
notebook's test triplets, anomaly AUROC, MAP@R, validation kNN-5, wall,
peak RSS; then each score's mean, spread and range over the seeds) in
docs/generated/quality-seeds.md and rewrites the page's block from it
(internal/docs checks that they agree).

Run alone, on a quiet machine (about 2 minutes a seed on 2 cores):
/usr/bin/python3 bench/quality.py --seeds 42 1 2
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, SIAMESE, timed  # noqa: E402

# The scores of the table: metrics.json key (a "validation." prefix reads
# the validation block), column head, and whether the summary line names it.
SCORES = [
    ("knn_accuracy_k5", "kNN-5 (test)", True),
    ("knn_accuracy_k1", "kNN-1", False),
    ("roc_auc", "ROC AUC", True),
    ("anomaly_auroc_mean_embedding", "anomaly AUROC (mean embedding)", True),
    ("map_at_r", "MAP@R", False),
    ("validation.knn_accuracy_k5", "validation kNN-5", False),
]


def score(metrics, key):
    for part in key.split("."):
        metrics = metrics[part]
    return metrics


def run_seed(seed, work):
    root = os.path.join(work, f"seed-{seed}")
    shutil.rmtree(root, ignore_errors=True)
    _, wall, rss = timed([SIAMESE, "-f", "examples/quality.yaml", "--artifacts", root, "run",
                          "--set", f"train.seed={seed}"])
    with open(os.path.join(root, "evaluate", "metrics.json")) as f:
        metrics = json.load(f)
    shutil.rmtree(root, ignore_errors=True)
    return {key: score(metrics, key) for key, _, _ in SCORES}, wall, rss


def table(rows):
    """rows: (seed, scores, wall, rss). The Markdown the block holds."""
    out = ["| seed | " + " | ".join(head for _, head, _ in SCORES) + " | wall | peak RSS |",
           "|---" * (len(SCORES) + 3) + "|"]
    for seed, scores, wall, rss in rows:
        out.append(f"| {seed} | " + " | ".join(f"{scores[k]:.4f}" for k, _, _ in SCORES) +
                   f" | {int(wall // 60)}:{wall % 60:05.2f} | {rss:.0f} MB |")
    parts = []
    for key, head, summary in SCORES:
        vals = [scores[key] for _, scores, _, _ in rows]
        if summary and len(vals) > 1:
            parts.append(f"{head.split(' (')[0]} {statistics.mean(vals):.4f} ± {statistics.stdev(vals):.4f} "
                         f"(range {min(vals):.4f}–{max(vals):.4f})")
    walls = [w for _, _, w, _ in rows]
    out.append("")
    out.append(f"Over the {len(rows)} seeds: " + ", ".join(parts) +
               f"; wall {min(walls) / 60:.1f}–{max(walls) / 60:.1f} min, peak RSS at most "
               f"{max(r for _, _, _, r in rows):.0f} MB (load average {os.getloadavg()[0]:.1f} at the end).")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
    ap.add_argument("--no-record", action="store_true", help="print the table only")
    args = ap.parse_args()
    subprocess.run(["make", "build"], cwd=ROOT, check=True, capture_output=True)
    work = tempfile.mkdtemp(prefix="quality-")
    rows = []
    for seed in args.seeds:
        scores, wall, rss = run_seed(seed, work)
        print(f"quality: seed {seed}: {json.dumps(scores)}, {wall:.1f} s, {rss:.0f} MB", file=sys.stderr, flush=True)
        rows.append((seed, scores, wall, rss))
    shutil.rmtree(work, ignore_errors=True)
    text = table(rows)
    print(text)
    if not args.no_record:
        with open(os.path.join(ROOT, "docs", "generated", "quality-seeds.md"), "w") as f:
            f.write(text)
        subprocess.run(["go", "run", "./internal/docs/gen", "-pages-only"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
