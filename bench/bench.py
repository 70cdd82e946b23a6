#!/usr/bin/env python3
"""make bench: ours against the references, side by side on this machine.

(a) the data stages ingest -> split (bin/siamese, bench/data.yaml) against
    bench/numpy/data_stages.py, stage by stage and in total, with peak RSS;
(b) one training epoch at batch 32 with each BLAS backend (go test
    -run TestEpochTiming ./model/) against bench/torch/epoch.py, at the same
    thread count;
(c) a no-op `siamese run` on the cached data-stage artifacts.

Each measurement is the best of --repeat runs, ours and theirs alternating.
Prints a Markdown table and writes it to bench/results/bench-<time>.md.
Run with Debian's interpreter: /usr/bin/python3 bench/bench.py
"""
import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIAMESE = os.path.join(ROOT, "bin", "siamese")
PY = "/usr/bin/python3"


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (stdout, wall s, peak RSS MB)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return p.stdout, wall, int(rss.group(1)) / 1024 if rss else float("nan")


def data_stages(per_class, work, repeat):
    go_root, np_root = os.path.join(work, "go"), os.path.join(work, "np")
    yaml = os.path.join(ROOT, "bench", "data.yaml")
    best = {}
    for _ in range(repeat):
        shutil.rmtree(np_root, ignore_errors=True)
        out, wall, rss = timed([PY, "bench/numpy/data_stages.py", "--per-class", str(per_class), "--out", np_root])
        steps = json.loads(out.strip().splitlines()[-1])["seconds"]
        steps["total"], steps["rss"] = wall, rss
        keep(best, "numpy", steps)

        subprocess.run(["sync"])
        _, wall, rss = timed([SIAMESE, "-f", yaml, "--artifacts", go_root, "run", "--force",
                              "--set", f"triplets.per_class={per_class}"])
        steps = {"total": wall, "rss": rss}
        for rec in glob.glob(os.path.join(go_root, ".siamese", "stages", "*.json")):
            r = json.load(open(rec))
            steps[r["stage"]] = r["duration_s"]
        keep(best, "ours", steps)
        subprocess.run(["sync"])
    noop = []
    for _ in range(max(repeat, 5)):
        _, wall, _ = timed([SIAMESE, "-f", yaml, "--artifacts", go_root, "run",
                            "--set", f"triplets.per_class={per_class}"])
        noop.append(wall)
    shutil.rmtree(work, ignore_errors=True)
    return best, statistics.median(noop)


def keep(best, who, steps):
    cur = best.setdefault(who, {})
    for k, v in steps.items():
        cur[k] = min(cur.get(k, float("inf")), v)


def epoch(threads, repeat):
    env = dict(os.environ, GOMAXPROCS=str(threads), OPENBLAS_NUM_THREADS=str(threads), SIAMESE_EPOCH_TIMING="1")
    out = {}
    tags = ["gonum"]
    if subprocess.run([os.path.join(ROOT, "scripts", "blas-tags.sh")], capture_output=True, text=True).stdout.strip():
        tags.append("openblas")
    for _ in range(repeat):
        for tag in tags:
            cmd = ["go", "test", "-count=1", "-run", "^TestEpochTiming$", "-v", "./model/"]
            if tag != "gonum":
                cmd[2:2] = ["-tags", tag]
            p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            m = re.search(r"epoch ([\d.]+)s", p.stdout)
            if not m:
                sys.exit(f"bench: epoch timing with {tag} failed:\n{p.stdout}\n{p.stderr}")
            out[tag] = min(out.get(tag, float("inf")), float(m.group(1)))
        p = subprocess.run([PY, "bench/torch/epoch.py", "--threads", str(threads), "--epochs", "2"],
                           cwd=ROOT, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"bench: torch failed:\n{p.stderr}")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        out["torch"] = min(out.get("torch", float("inf")), min(e["seconds"] for e in r["epochs"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-epoch", action="store_true", help="only the data stages and the no-op run")
    args = ap.parse_args()

    os.makedirs(os.path.join(ROOT, "out"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-", dir=os.path.join(ROOT, "out"))
    data, noop = data_stages(args.per_class, work, args.repeat)
    rows = [("| measurement | ours | reference | ours / reference |"), ("|---|---|---|---|")]
    for stage in ["ingest", "triplets", "flatten", "split", "total"]:
        o, n = data["ours"].get(stage), data["numpy"].get(stage)
        name = f"data: {stage}" if stage != "total" else "**data: ingest→split, wall**"
        rows.append(f"| {name} (per_class {args.per_class}) | {o:.2f} s | numpy {n:.2f} s | {o / n:.2f} |")
    rows.append(f"| data: peak RSS | {data['ours']['rss']:.0f} MB | numpy {data['numpy']['rss']:.0f} MB | "
                f"{data['ours']['rss'] / data['numpy']['rss']:.2f} |")
    if not args.skip_epoch:
        ep = epoch(args.threads, args.repeat)
        for tag in [t for t in ("gonum", "openblas") if t in ep]:
            label = {"gonum": "pure Go (gonum, our AVX2 Sgemm)", "openblas": "OpenBLAS"}[tag]
            rows.append(f"| **train: one epoch, batch 32, {args.threads} threads, {label}** | {ep[tag]:.2f} s | "
                        f"PyTorch {ep['torch']:.2f} s | {ep[tag] / ep['torch']:.2f} |")
    rows.append(f"| no-op `siamese run` (cached, median) | {noop * 1000:.0f} ms | | |")
    table = "\n".join(rows)
    head = (f"make bench, {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, "
            f"best of {args.repeat} (load average {os.getloadavg()[0]:.1f} at the end)\n\n")
    print(head + table)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", time.strftime("bench-%Y%m%dT%H%M%S.md"))
    with open(path, "w") as f:
        f.write(head + table + "\n")
    print(f"\nwritten to {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
