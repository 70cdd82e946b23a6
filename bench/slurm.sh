#!/usr/bin/env bash
# The wall time of the default pipeline from an empty root, run locally and
# through the local Slurm cluster, back to back on this machine:
#   bench/slurm.sh [OUTDIR]
# Needs bin/siamese (make build) and the cluster (scripts/slurm-local.sh start).
# Runs three times: local (--jobs 2), Slurm with pipeline.yaml as it is
# (one CPU per job), Slurm with every stage given resources {cpus: 2}.
# Prints, per run, the wall time, and per stage the job's time from squeue
# next to the stage's own time from its record.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d /tmp/siamese-slurm-bench.XXXXXX)}
mkdir -p "$out"
bin=$PWD/bin/siamese
sed 's/^    outs:$/    resources: {cpus: 2}\n    outs:/' pipeline.yaml >"$out/pipeline-cpus2.yaml"

run() { # name, args...
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$bin" --artifacts "$out/$name" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || true
  t1=$(date +%s.%N)
  printf '%-14s wall %6.1f s\n' "$name" "$(echo "$t1 - $t0" | bc)"
  /usr/bin/python3 - "$out/$name" "$out/$name.stderr" <<'PY'
import json, re, subprocess, sys, glob, os, datetime as dt
root, errf = sys.argv[1], sys.argv[2]
jobs = dict(re.findall(r'(?m)^(\S+)\s+job (\d+)\s+submitted', open(errf).read()))
sq = {}
if jobs:
    out = subprocess.run(["squeue", "-h", "-t", "all", "-j", ",".join(jobs.values()), "-o", "%i %S %e"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        i, s, e = line.split()
        f = "%Y-%m-%dT%H:%M:%S"
        sq[i] = (dt.datetime.strptime(e, f) - dt.datetime.strptime(s, f)).total_seconds()
for rec in sorted(glob.glob(os.path.join(root, ".siamese/stages/*.json")), key=os.path.getmtime):
    r = json.load(open(rec))
    job = jobs.get(r["stage"])
    extra = f"  job {job}: {sq.get(job, float('nan')):4.0f} s (squeue, whole seconds)" if job else ""
    print(f"    {r['stage']:9s} stage {r['duration_s']:6.1f} s{extra}")
PY
}

echo "bench/slurm.sh on $(hostname), $(nproc) CPUs, $(date -u +%FT%TZ); results in $out"
run local run
run slurm run --executor slurm
run slurm-cpus2 -f "$out/pipeline-cpus2.yaml" run --executor slurm
