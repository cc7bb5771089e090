"""Benchmark (not a test): rows/s of scoring a text column with l2core on local Spark and local Ray, on
1 and 2 cores, against plain `Model.score` in one process, in the same run. Each engine runs in its own
subprocess; each figure is the median of --repeat timed runs after a warm-up run (JVM, Python workers,
Ray actors started and the model loaded), with the CPU time of the whole process tree (driver, JVM,
Python workers, Ray's processes) next to the wall time, because the machine may be shared.

Usage: .venv/bin/python scripts/bench/scale.py [--rows N] [--repeat R] [--model MODEL] [--data CSV...]
                                                [--json OUT]
Data: the benign and malicious texts of /work/shared/data/public/*.csv when present (real prompts),
else the built-in demo corpus, repeated to --rows rows. Model: --model, else one trained here for one
epoch on the demo corpus with the default architecture (the cost of scoring does not depend on quality).
Needs the spark and ray extras (scripts/requirements-scale.txt) and Java.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List

PUBLIC = "/work/shared/data/public"
BATCH = 4096


def _tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of `root` and every live descendant, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: Dict[int, int] = {}
    cpu: Dict[int, float] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(d)
        parents[pid] = int(fields[1])
        # utime, stime, and the children's that were waited for (cutime, cstime)
        cpu[pid] = sum(int(x) for x in fields[11:15]) / tick
    total, stack = 0.0, [root]
    seen = set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += cpu.get(p, 0.0)
        stack.extend(c for c, pp in parents.items() if pp == p)
    return total


def _timed(fn, repeat: int) -> Dict[str, Any]:
    fn()  # warm-up: start workers, load the model
    walls, cpus = [], []
    me = os.getpid()
    for _ in range(repeat):
        c0, t0 = _tree_cpu(me), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(_tree_cpu(me) - c0)
    return {"wall_s": walls, "cpu_s": cpus}


def _texts(rows: int, data: List[str]) -> List[str]:
    import l2core

    base: List[str] = []
    for path in data:
        base += l2core.read_csv(path)["text"].tolist()
    if not base:
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "corpus.csv")
            l2core._l2core.run_cli(["l2", "corpus", "-o", p])
            base = l2core.read_csv(p)["text"].tolist()
    return (base * (rows // len(base) + 1))[:rows]


# --- one engine per subprocess ------------------------------------------------------------------------


def run_plain(args) -> Dict[str, Any]:
    import numpy as np
    import pyarrow.parquet as pq

    import l2core

    model = l2core.Model.load(args.model)
    col = pq.read_table(args.parquet, columns=["text"]).column("text")
    texts = col.to_pylist()
    chunks = col.combine_chunks()

    def score_list():
        for i in range(0, len(texts), BATCH):
            model.score(texts[i : i + BATCH])

    def score_arrow():
        for i in range(0, len(chunks), BATCH):
            model.score_arrow(chunks.slice(i, BATCH))

    np.testing.assert_array_equal(model.score(texts[:1000]), model.score_arrow(chunks.slice(0, 1000)))
    return {"plain Model.score (list of str)": _timed(score_list, args.repeat),
            "plain Model.score_arrow": _timed(score_arrow, args.repeat)}


def run_spark(args) -> Dict[str, Any]:
    from pyspark.sql import SparkSession

    from l2core import spark as l2spark

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master(f"local[{args.cores}]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH))
        .config("spark.sql.files.maxPartitionBytes", str(4 << 20))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.read.parquet(args.parquet)

    def passthrough():
        df.mapInArrow(lambda it: it, df.schema).write.format("noop").mode("overwrite").save()

    def score():
        l2spark.score(df, args.model).write.format("noop").mode("overwrite").save()

    out = {f"spark local[{args.cores}] read + mapInArrow passthrough": _timed(passthrough, args.repeat),
           f"spark local[{args.cores}] l2core.spark.score": _timed(score, args.repeat)}
    spark.stop()
    return out


def run_ray(args) -> Dict[str, Any]:
    import ray

    from l2core import ray as l2ray

    ray.init(num_cpus=args.cores, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    ds = ray.data.read_parquet(args.parquet).materialize()  # reading is not what is measured here

    def score():
        l2ray.score(ds, args.model, concurrency=args.cores).materialize()

    out = {f"ray num_cpus={args.cores} l2core.ray.score": _timed(score, args.repeat)}
    ray.shutdown()
    return out


# --- the orchestrator ---------------------------------------------------------------------------------


def _cpu_model() -> str:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model")
    ap.add_argument("--data", nargs="*")
    ap.add_argument("--json")
    ap.add_argument("--engines", default="plain,spark,ray")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--cores", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--parquet", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.run:
        result = {"plain": run_plain, "spark": run_spark, "ray": run_ray}[args.run](args)
        print("RESULT " + json.dumps(result))
        return

    import pyarrow as pa
    import pyarrow.parquet as pq

    import l2core

    data = args.data if args.data is not None else sorted(glob.glob(os.path.join(PUBLIC, "*.csv")))
    work = tempfile.mkdtemp(prefix="l2core-bench-scale-")
    if not args.model:
        args.model = os.path.join(work, "model.l2")
        l2core.train(epochs=1).save(args.model)
    texts = _texts(args.rows, data)
    parquet = os.path.join(work, "texts.parquet")
    pq.write_table(pa.table({"text": texts}), parquet, row_group_size=BATCH * 4)
    mean_chars = sum(map(len, texts)) / len(texts)

    results: Dict[str, Any] = {}
    runs = [("plain", 1)] + [(e, c) for e in ("spark", "ray") for c in (1, 2)]
    for engine, cores in runs:
        if engine not in args.engines.split(","):
            continue
        cmd = [sys.executable, __file__, "--run", engine, "--cores", str(cores), "--parquet", parquet,
               "--model", args.model, "--repeat", str(args.repeat)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode != 0 or not line:
            sys.stderr.write(proc.stderr[-4000:])
            raise SystemExit(f"{engine} on {cores} core(s) failed (exit {proc.returncode})")
        for name, r in json.loads(line[0][7:]).items():
            r["cores"] = cores
            results[name] = r

    base = statistics.median(results["plain Model.score (list of str)"]["wall_s"]) if "plain Model.score (list of str)" in results else None
    print(f"CPU: {_cpu_model()} ({os.cpu_count()} logical CPUs); {len(texts)} rows, mean {mean_chars:.0f} chars; "
          f"data: {', '.join(os.path.basename(d) for d in data) or 'built-in demo corpus'}")
    print(f"{'run':58} {'rows/s':>10} {'per core':>9} {'vs plain':>9} {'CPU s':>7} {'rows/CPU-s':>10}")
    for name, r in results.items():
        wall, cpu = statistics.median(r["wall_s"]), statistics.median(r["cpu_s"])
        rate = len(texts) / wall
        ratio = f"{(base / wall) / r['cores']:.2f}" if base else "-"
        print(f"{name:58} {rate:10.0f} {rate / r['cores']:9.0f} {ratio:>9} {cpu:7.2f} {len(texts) / cpu:10.0f}")
    print("walls (s): " + "; ".join(f"{k}: {', '.join(f'{w:.2f}' for w in v['wall_s'])}" for k, v in results.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": _cpu_model(), "rows": len(texts), "mean_chars": mean_chars, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
