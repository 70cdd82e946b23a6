#!/usr/bin/env python3
"""make bench: ours against the references, side by side on this machine.

(a) the data stages ingest -> split and the notebook's arrays (bin/siamese,
    bench/data.yaml) against bench/numpy/data_stages.py, stage by stage and
    in total, with peak RSS;
(b) one training epoch at batch 32 with each BLAS backend (go test
    -run TestEpochTiming ./model/) against bench/torch/epoch.py, at the same
    thread count;
(b') one epoch of the convolutional embedding (train.arch: cnn) against the
    same network, loss and optimiser in PyTorch, same threads (bench/cnn.py);
(c) a no-op `siamese run` on the cached data-stage artifacts;
(d) the whole default pipeline: `siamese run` (pipeline.yaml, quality gate
    included) from an empty root, against bench/torch/pipeline.py (the same
    data stages in numpy, 10 epochs and the notebook's evaluation in
    PyTorch) and against one PyTorch epoch of (b), with peak RSS; and, from
    the same run, the whole pipeline and evaluate against its own train
    stage and one of its epochs, and the train stage against its ten epochs
    and against ten epochs of (b);
(e) scale (--scale): per_class 30,000 with the notebook's arrays on and
    off, and 300,000 with them off (2 epochs): wall, peak RSS, bytes left
    under the artifacts root, the train stage and the whole run against it;
(f) folder ingest (--folder): a folder of 100,000 PNGs ingested from
    scratch, then again after 1,000 images are added, and the outputs
    compared with a from-scratch ingest of the larger folder;
(g) a 3 x 3 `siamese sweep` against the nine standalone runs it stands for.

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

import cnn  # bench/cnn.py

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
    shutil.rmtree(go_root, ignore_errors=True)
    shutil.rmtree(np_root, ignore_errors=True)
    return best, statistics.median(noop)


def keep(best, who, steps):
    cur = best.setdefault(who, {})
    for k, v in steps.items():
        cur[k] = min(cur.get(k, float("inf")), v)


def epoch(threads, repeat):
    env = dict(os.environ, GOMAXPROCS=str(threads), OPENBLAS_NUM_THREADS=str(threads), SIAMESE_EPOCH_TIMING="1")
    out = {}
    tags = ["gonum", "bf16"]  # bf16: the gonum build, train.precision bf16
    if subprocess.run([os.path.join(ROOT, "scripts", "blas-tags.sh"), "--available"], capture_output=True,
                      text=True).stdout.strip():
        tags.append("openblas")
    for _ in range(repeat):
        for tag in tags:
            cmd = ["go", "test", "-count=1", "-run", "^TestEpochTiming$", "-v", "./model/"]
            if tag == "openblas":
                cmd[2:2] = ["-tags", tag]
            tenv = dict(env, SIAMESE_EPOCH_PRECISION="bf16" if tag == "bf16" else "float32")
            p = subprocess.run(cmd, cwd=ROOT, env=tenv, capture_output=True, text=True)
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


def log_epochs(path):
    """Seconds of each epoch, from a train stage's log."""
    secs = []
    for line in open(path):
        m = re.search(r"msg=epoch .*seconds=([\d.e+-]+)", line)
        if m:
            secs.append(float(m.group(1)))
    return secs


def siamese_pipeline(root, env, extra=()):
    """One `siamese run` from an empty root: wall, peak RSS, stage
    durations, epoch times and metrics."""
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(["sync"])
    out, wall, rss = timed([SIAMESE, "--artifacts", root, "run", *extra], env=env)  # exits non-zero if the gate fails
    stages = {}
    for rec in glob.glob(os.path.join(root, ".siamese", "stages", "*.json")):
        r = json.load(open(rec))
        stages[r["stage"]] = r["duration_s"]
    epochs = log_epochs(os.path.join(root, "train", "train.log"))
    metrics = json.load(open(os.path.join(root, "evaluate", "metrics.json")))
    print(f"bench: siamese run {' '.join(extra)} {wall:.2f} s, {rss:.0f} MB, stages {json.dumps(stages)}, "
          f"epochs {epochs}", file=sys.stderr, flush=True)
    shutil.rmtree(root, ignore_errors=True)
    return {"wall": wall, "rss": rss, "stages": stages, "epochs": epochs, "metrics": metrics}


def whole_pipeline(work, threads, repeat, torch=True):
    """Times `siamese run` from an empty root (float32 and bf16 training
    products) and bench/torch/pipeline.py, alternating; returns the best of
    each (by wall time)."""
    env = dict(os.environ, GOMAXPROCS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    ours, bf16, ref = None, None, None
    for _ in range(repeat):
        root = os.path.join(work, "pipeline")
        run = siamese_pipeline(root, env)
        if ours is None or run["wall"] < ours["wall"]:
            ours = run
        run = siamese_pipeline(root, env, ("--set", "train.precision=bf16"))
        if bf16 is None or run["wall"] < bf16["wall"]:
            bf16 = run

        if not torch:
            continue
        np_root = os.path.join(work, "torch-pipeline")
        shutil.rmtree(np_root, ignore_errors=True)
        out, wall, rss = timed([PY, "bench/torch/pipeline.py", "--out", np_root, "--threads", str(threads)])
        r = json.loads(out.strip().splitlines()[-1])
        r.update(wall=wall, rss=rss)
        if ref is None or wall < ref["wall"]:
            ref = r
        shutil.rmtree(np_root, ignore_errors=True)
    return ours, bf16, ref


def pipeline_rows(work, args, ep):
    ours, bf16, ref = whole_pipeline(work, args.threads, args.pipeline_repeat, args.torch_pipeline)
    blas = "openblas" if subprocess.run([os.path.join(ROOT, "scripts", "blas-tags.sh")], capture_output=True,
                                        text=True).stdout.strip() else "gonum"
    st, epochs, m = ours["stages"], ours["epochs"], ours["metrics"]
    own_epoch = statistics.median(epochs)
    rows = []
    if ref:
        rows.append(f"| **whole default pipeline: `siamese run` from an empty root, wall** ({blas}, {len(epochs)} epochs) | "
                    f"{ours['wall']:.2f} s | numpy + PyTorch pipeline {ref['wall']:.2f} s | {ours['wall'] / ref['wall']:.3f} |")
    if ep:
        rows.append(f"| **whole default pipeline vs one PyTorch epoch** | {ours['wall']:.2f} s | "
                    f"PyTorch epoch {ep['torch']:.2f} s | {ours['wall'] / ep['torch']:.2f} |")
    if ref:
        rows += [
            f"| whole pipeline: peak RSS | {ours['rss']:.0f} MB | numpy + PyTorch {ref['rss']:.0f} MB | "
            f"{ours['rss'] / ref['rss']:.2f} |",
            f"| whole pipeline: quality (gate: roc_auc ≥ 0.96, binary_accuracy ≥ 0.83) | roc_auc {m['roc_auc']:.4f}, "
            f"accuracy {m['binary_accuracy']:.4f} | roc_auc {ref['roc_auc']:.4f}, accuracy {ref['binary_accuracy']:.4f} | |",
        ]
    else:
        rows += [
            f"| whole pipeline: peak RSS | {ours['rss']:.0f} MB | | |",
            f"| whole pipeline: quality (gate: roc_auc ≥ 0.96, binary_accuracy ≥ 0.83) | roc_auc {m['roc_auc']:.4f}, "
            f"accuracy {m['binary_accuracy']:.4f} | | |",
        ]
    data_ref = f"numpy {ref['seconds']['data']:.2f} s" if ref else ""
    rows += [
        f"| whole pipeline: data stages before train (ingest, triplets, split) | "
        f"{sum(st.get(s, 0) for s in ('ingest', 'triplets', 'split')):.2f} s"
        f" (+ pictures {st.get('pictures', 0):.2f} s, notebook {st.get('notebook', 0):.2f} s beside train) | "
        f"{data_ref} | |",
        f"| **whole default pipeline vs its own train stage** | {ours['wall']:.2f} s | train stage {st['train']:.2f} s | "
        f"{ours['wall'] / st['train']:.2f} |",
    ]
    if ref:
        rows.append(f"| whole pipeline: train stage | {st['train']:.2f} s | PyTorch {ref['seconds']['train']:.2f} s | "
                    f"{st['train'] / ref['seconds']['train']:.3f} |")
    rows += [
        f"| **evaluate stage vs one epoch of ours (median of the run's {len(epochs)})** | {st['evaluate']:.2f} s | "
        f"epoch {own_epoch:.2f} s | {st['evaluate'] / own_epoch:.2f} |",
        f"| train stage vs the sum of its epochs | {st['train']:.2f} s | {sum(epochs):.2f} s | "
        f"{st['train'] / sum(epochs):.3f} |",
    ]
    if ep and blas in ep:
        rows.append(f"| **train stage vs {len(epochs)} benchmark epochs** ({blas}) | {st['train']:.2f} s | "
                    f"{len(epochs)} × {ep[blas]:.2f} s | {st['train'] / (len(epochs) * ep[blas]):.2f} |")
    b, bst, bm = bf16, bf16["stages"], bf16["metrics"]
    if ref:
        rows.append(f"| **whole pipeline, `--set train.precision=bf16`**, wall ({len(b['epochs'])} epochs) | "
                    f"{b['wall']:.2f} s | numpy + PyTorch pipeline {ref['wall']:.2f} s | {b['wall'] / ref['wall']:.3f} |")
    if ep:
        rows.append(f"| **whole pipeline, bf16, vs one PyTorch epoch** | {b['wall']:.2f} s | "
                    f"PyTorch epoch {ep['torch']:.2f} s | {b['wall'] / ep['torch']:.2f} |")
    bep = statistics.median(b["epochs"])
    rows += [
        f"| whole pipeline, bf16: peak RSS | {b['rss']:.0f} MB | | |",
        f"| whole pipeline, bf16: quality | roc_auc {bm['roc_auc']:.4f}, accuracy {bm['binary_accuracy']:.4f} | | |",
        f"| whole pipeline, bf16: train stage | {bst['train']:.2f} s | float32 {st['train']:.2f} s | "
        f"{bst['train'] / st['train']:.3f} |",
        f"| whole pipeline, bf16: evaluate vs one bf16 epoch (median) | {bst['evaluate']:.2f} s | "
        f"epoch {bep:.2f} s | {bst['evaluate'] / bep:.2f} |",
    ]
    if ep and "bf16" in ep:
        rows.append(f"| whole pipeline, bf16: train stage vs {len(b['epochs'])} bf16 benchmark epochs | "
                    f"{bst['train']:.2f} s | {len(b['epochs'])} × {ep['bf16']:.2f} s | "
                    f"{bst['train'] / (len(b['epochs']) * ep['bf16']):.2f} |")
    return rows


def du(root):
    """Bytes of the files under root: what a run left on disk."""
    total = 0
    for d, _, files in os.walk(root):
        for f in files:
            try:
                total += os.lstat(os.path.join(d, f)).st_size
            except OSError:
                pass
    return total


def scale_run(work, per_class, arrays, epochs=None):
    root = os.path.join(work, "scale")
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(["sync"])
    cmd = [SIAMESE, "--artifacts", root, "run", "--no-gate", "--set", f"triplets.per_class={per_class}",
           f"--notebook-arrays={'true' if arrays else 'false'}"]
    if epochs:
        cmd += ["--set", f"train.epochs={epochs}"]
    _, wall, rss = timed(cmd)
    stages = {}
    for rec in glob.glob(os.path.join(root, ".siamese", "stages", "*.json")):
        r = json.load(open(rec))
        stages[r["stage"]] = r["duration_s"]
    written = du(root)
    print(f"bench: scale per_class {per_class} arrays {arrays}: {wall:.1f} s, {rss:.0f} MB, "
          f"{written / 1e6:.0f} MB, stages {json.dumps(stages)}", file=sys.stderr, flush=True)
    shutil.rmtree(root, ignore_errors=True)
    return {"wall": wall, "rss": rss, "written": written, "stages": stages}


def scale_rows(work):
    rows = []
    for per_class, arrays, epochs in [(30000, True, None), (30000, False, None), (300000, False, 2)]:
        r = scale_run(work, per_class, arrays, epochs)
        train = r["stages"].get("train", float("nan"))
        what = f"per_class {per_class:,}, notebook arrays {'on' if arrays else 'off'}" + (f", {epochs} epochs" if epochs else "")
        rows.append(f"| **scale: {what}: wall, peak RSS, written** | {r['wall']:.1f} s, {r['rss']:.0f} MB, "
                    f"{r['written'] / 1e6:.0f} MB | train stage {train:.1f} s | {r['wall'] / train:.2f} |")
    return rows


def folder_rows(work):
    """A folder of 100,000 PNGs ingested from scratch, then after 1,000
    more are added; the second's outputs against a from-scratch ingest."""
    src, yaml = os.path.join(work, "folder"), os.path.join(work, "folder.yaml")
    with open(yaml, "w") as f:
        f.write("stages:\n  ingest:\n    params: {dataset: folder, source: " + src + "}\n"
                "    outs: [ingest/images.npy, ingest/labels.npy, ingest/classes.txt]\n")
    mk = ["go", "run", "./bench/mkfolder", "-dir", src]
    subprocess.run(mk + ["-n", "100000"], cwd=ROOT, check=True)
    root, scratch = os.path.join(work, "folder-out"), os.path.join(work, "folder-scratch")
    subprocess.run(["sync"])
    _, first, rss1 = timed([SIAMESE, "-f", yaml, "--artifacts", root, "run"])
    subprocess.run(mk + ["-n", "1000", "-from", "100000"], cwd=ROOT, check=True)
    subprocess.run(["sync"])
    _, second, rss2 = timed([SIAMESE, "-f", yaml, "--artifacts", root, "run"])
    _, full, _ = timed([SIAMESE, "-f", yaml, "--artifacts", scratch, "run"])
    same = all(subprocess.run(["cmp", "-s", os.path.join(root, "ingest", f), os.path.join(scratch, "ingest", f)]).returncode == 0
               for f in ("images.npy", "labels.npy", "classes.txt"))
    print(f"bench: folder ingest {first:.1f} s, +1000 {second:.1f} s, from scratch {full:.1f} s, same {same}",
          file=sys.stderr, flush=True)
    for d in (src, root, scratch):
        shutil.rmtree(d, ignore_errors=True)
    return [
        f"| **folder ingest: 100,000 PNGs from scratch, then 1,000 added** | {second:.2f} s (outputs "
        f"{'byte-identical to' if same else 'DIFFERENT from'} a from-scratch ingest) | first ingest {first:.2f} s "
        f"(from scratch after the addition {full:.2f} s) | {second / first:.3f} |",
    ]


def sweep_rows(work, per_class=300, epochs=2):
    """A 3 learning rates x 3 seeds `siamese sweep` (--jobs 1) against the
    nine standalone `siamese run`s it stands for, one after another, each
    from an empty root: the wall of each, and how many stages ran."""
    grid = [(lr, seed) for lr in ("1e-4", "2e-4", "3e-4") for seed in (1, 2, 3)]
    fixed = ["--set", f"triplets.per_class={per_class}", "--set", f"train.epochs={epochs}"]
    alone_wall, alone_ran = 0.0, 0
    for lr, seed in grid:
        root = os.path.join(work, "alone")
        shutil.rmtree(root, ignore_errors=True)
        _, wall, _ = timed([SIAMESE, "--artifacts", root, "run", "--no-gate", *fixed,
                            "--set", f"train.lr={lr}", "--set", f"train.seed={seed}"])
        alone_wall += wall
        alone_ran += len(glob.glob(os.path.join(root, ".siamese", "stages", "*.json")))
    root = os.path.join(work, "sweep")
    shutil.rmtree(root, ignore_errors=True)
    _, sweep_wall, rss = timed([SIAMESE, "--artifacts", root, "sweep", "bench", "--jobs", "1", *fixed,
                                "--set", "train.lr=" + ",".join(sorted({lr for lr, _ in grid})),
                                "--set", "train.seed=1,2,3"])
    sweep_ran = sum(1 for rec in glob.glob(os.path.join(root, "sweeps", "bench", "variants", "*", ".siamese", "stages", "*.json"))
                    if not json.load(open(rec)).get("shared_from"))
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(os.path.join(work, "alone"), ignore_errors=True)
    print(f"bench: sweep 3x3 {sweep_wall:.2f} s ({sweep_ran} stages ran), nine runs {alone_wall:.2f} s "
          f"({alone_ran} stages ran)", file=sys.stderr, flush=True)
    return [f"| **sweep: 3 lr × 3 seeds (per_class {per_class}, {epochs} epochs), `siamese sweep --jobs 1`, wall** | "
            f"{sweep_wall:.2f} s ({sweep_ran} stages ran, {rss:.0f} MB) | nine `siamese run`s one after another "
            f"{alone_wall:.2f} s ({alone_ran} stages ran) | {sweep_wall / alone_wall:.2f} |"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-epoch", action="store_true", help="only the data stages and the no-op run")
    ap.add_argument("--cnn-images", type=int, default=55000, help="images of the CNN epoch (bench/cnn.py)")
    ap.add_argument("--pipeline-repeat", type=int, default=1,
                    help="runs of the whole pipeline, ours and the reference (0: skip them)")
    ap.add_argument("--torch-pipeline", action=argparse.BooleanOptionalAction, default=True,
                    help="time the numpy + PyTorch pipeline beside ours (ten PyTorch epochs)")
    ap.add_argument("--scale", action=argparse.BooleanOptionalAction, default=True,
                    help="the scale rows: per_class 30,000 and 300,000 (minutes)")
    ap.add_argument("--folder", action=argparse.BooleanOptionalAction, default=True,
                    help="the folder-ingest rows: 100,000 PNGs written, ingested twice")
    ap.add_argument("--record-docs", metavar="RESULTS", nargs="+",
                    help="only record the scale rows of bench/results tables for docs/data-flow.md")
    args = ap.parse_args()
    if args.record_docs:
        record_docs(*args.record_docs)
        return

    os.makedirs(os.path.join(ROOT, "out"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-", dir=os.path.join(ROOT, "out"))
    data, noop = data_stages(args.per_class, work, args.repeat)
    print("bench: data stages (s):", json.dumps(data), file=sys.stderr, flush=True)
    rows = [("| measurement | ours | reference | ours / reference |"), ("|---|---|---|---|")]
    # ours: ingest, triplets (the index), split (the rows), notebook (the
    # four arrays); numpy: ingest, triplets (with the array), flatten, split.
    ours, ref = data["ours"], data["numpy"]
    for name, o, n in [
        ("data: ingest", ours.get("ingest"), ref.get("ingest")),
        ("data: triplets, split, the notebook's arrays (numpy: triplets, flatten, split)",
         sum(ours.get(s, 0) for s in ("triplets", "split", "notebook")),
         sum(ref.get(s, 0) for s in ("triplets", "flatten", "split"))),
        ("data: what train waits for: ingest, triplets, split (numpy: all of its steps)",
         sum(ours.get(s, 0) for s in ("ingest", "triplets", "split")), ref.get("total")),
        ("**data: ingest→split and the notebook's arrays, wall**", ours.get("total"), ref.get("total")),
    ]:
        rows.append(f"| {name} (per_class {args.per_class}) | {o:.2f} s | numpy {n:.2f} s | {o / n:.2f} |")
    rows.append(f"| data: peak RSS | {data['ours']['rss']:.0f} MB | numpy {data['numpy']['rss']:.0f} MB | "
                f"{data['ours']['rss'] / data['numpy']['rss']:.2f} |")
    ep = None
    if not args.skip_epoch:
        ep = epoch(args.threads, args.repeat)
        print("bench: one epoch (s):", json.dumps(ep), file=sys.stderr, flush=True)
        for tag in [t for t in ("gonum", "bf16", "openblas") if t in ep]:
            label = {"gonum": "pure Go (gonum with our AVX-512/AVX2 Sgemm)", "openblas": "OpenBLAS",
                     "bf16": "pure Go, `precision: bf16` (AMX tiles where the CPU has them)"}[tag]
            rows.append(f"| **train: one epoch, batch 32, {args.threads} threads, {label}** | {ep[tag]:.2f} s | "
                        f"PyTorch {ep['torch']:.2f} s | {ep[tag] / ep['torch']:.2f} |")
        rows += cnn.cnn_rows(args.threads, args.repeat, args.cnn_images)
    rows.append(f"| no-op `siamese run` (cached, median) | {noop * 1000:.0f} ms | | |")
    if args.pipeline_repeat > 0:
        rows += pipeline_rows(work, args, ep)
    if args.scale:
        rows += scale_rows(work)
    if args.folder:
        rows += folder_rows(work)
    rows += sweep_rows(work)
    shutil.rmtree(work, ignore_errors=True)
    table = "\n".join(rows)
    head = (f"make bench, {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, "
            f"best of {args.repeat} (load average {os.getloadavg()[0]:.1f} at the end)\n\n")
    print(head + table)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", time.strftime("bench-%Y%m%dT%H%M%S.md"))
    with open(path, "w") as f:
        f.write(head + table + "\n")
    print(f"\nwritten to {os.path.relpath(path, ROOT)}")
    if args.scale and args.folder and args.pipeline_repeat > 0:
        record_docs(path)


SCALE_ROWS = ("scale:", "folder ingest", "vs its own train stage", "vs one PyTorch epoch")


def record_docs(*results):
    """Records the rows docs/data-flow.md quotes (the whole pipeline against
    its train stage and a PyTorch epoch, scale, folder ingest) from tables
    make bench wrote, in docs/generated/bench-scale.md, and rewrites the
    page's block from it (internal/docs checks that they agree)."""
    heads, rows = [], {}  # a later table's row replaces an earlier one of the same measurement
    for path in results:
        lines = open(path).read().splitlines()
        heads.append(re.sub(r", \d{4}-\d\d-\d\d \d\d:\d\d \w+", "", lines[0]))  # the pages carry no dates
        for l in lines:
            if l.startswith("|") and any(k in l for k in SCALE_ROWS):
                rows[l.split("|")[1]] = l
    table = ["| measurement | ours | reference | ours / reference |", "|---|---|---|---|"] + list(rows.values())
    head = "; ".join(dict.fromkeys(heads))
    with open(os.path.join(ROOT, "docs", "generated", "bench-scale.md"), "w") as f:
        f.write(head + "\n\n" + "\n".join(table) + "\n")
    subprocess.run(["go", "run", "./internal/docs/gen", "-pages-only"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
