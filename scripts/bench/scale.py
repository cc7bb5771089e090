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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, Iterator, List

import pyarrow as pa

PUBLIC = "/work/shared/data/public"
BATCH = 4096


def _cpu() -> Dict[int, float]:
    """CPU seconds (user + system) of this process and its descendants (the JVM and Spark's Python
    workers; Ray's raylet, GCS and workers), per pid, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    parents: Dict[int, int] = {}
    cpu: Dict[int, float] = {}
    ours = {me}
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
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    stack = list(ours)
    while stack:
        p = stack.pop()
        for c, pp in parents.items():
            if pp == p and c not in ours:
                ours.add(c)
                stack.append(c)
    return {p: cpu.get(p, 0.0) for p in ours}


def _cpu_delta(before: Dict[int, float], after: Dict[int, float]) -> float:
    """CPU used between two snapshots by the processes alive at the second. A process that exited in
    between (Ray ends the previous run's actors lazily) is left out rather than subtracted."""
    return sum(max(0.0, c - before.get(p, 0.0)) for p, c in after.items())


def _timed(fn, repeat: int) -> Dict[str, Any]:
    fn()  # warm-up: start workers, load the model
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = _cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu_delta(c0, _cpu()))
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

    import numpy as np
    from pyspark.sql import functions as F

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master(f"local[{args.cores}]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.files.maxPartitionBytes", str(4 << 20))  # several tasks per core
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.read.parquet(args.parquet)

    # What Spark costs without l2core: reading the Parquet file, and the same Arrow UDF round trip that
    # returns zeros instead of scores.
    def zeros(batches: Iterator[pa.Array]) -> Iterator[pa.Array]:
        for a in batches:
            n = len(a)
            yield pa.StructArray.from_arrays(
                [pa.array(np.zeros(n, np.float32)), pa.array(np.zeros(n, np.bool_))], names=["score", "malicious"]
            )

    zeros_udf = F.arrow_udf(zeros, "score float, malicious boolean")

    def sink(frame) -> None:
        frame.write.format("noop").mode("overwrite").save()

    c = args.cores
    out = {
        f"spark local[{c}] read only": _timed(lambda: sink(df), args.repeat),
        f"spark local[{c}] read + Arrow UDF returning zeros": _timed(
            lambda: sink(df.select("text", zeros_udf(F.col("text")).alias("r")).select("text", "r.*")), args.repeat
        ),
        f"spark local[{c}] read + l2core.spark.score": _timed(lambda: sink(l2spark.score(df, args.model)), args.repeat),
    }
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

    data = args.data if args.data is not None else sorted(glob.glob(os.path.join(PUBLIC, "*.csv")))
    work = tempfile.mkdtemp(prefix="l2core-bench-scale-")
    try:
        _orchestrate(args, data, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _orchestrate(args, data: List[str], work: str) -> None:
    import pyarrow.parquet as pq

    import l2core

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

    def med(name: str, key: str) -> float:
        return statistics.median(results[name][key])

    plain, arrow = "plain Model.score (list of str)", "plain Model.score_arrow"
    print(f"CPU: {_cpu_model()} ({os.cpu_count()} logical CPUs); {len(texts)} rows, mean {mean_chars:.0f} chars; "
          f"data: {', '.join(os.path.basename(d) for d in data) or 'built-in demo corpus'}")
    print("per core = rows/s / cores; vs plain = per core / plain Model.score rows/s; CPU s = CPU time of every "
          "process of the run; CPU eff = rows per CPU-s / plain Model.score_arrow's")
    print(f"{'run':52} {'rows/s':>8} {'per core':>8} {'vs plain':>8} {'CPU s':>6} {'rows/CPU-s':>10} {'CPU eff':>7}")
    for name, r in results.items():
        wall, cpu = med(name, "wall_s"), med(name, "cpu_s")
        rate = len(texts) / wall
        ratio = f"{rate / r['cores'] / (len(texts) / med(plain, 'wall_s')):.2f}" if plain in results else "-"
        eff = f"{med(arrow, 'cpu_s') / cpu:.2f}" if arrow in results else "-"
        print(f"{name:52} {rate:8.0f} {rate / r['cores']:8.0f} {ratio:>8} {cpu:6.2f} {len(texts) / cpu:10.0f} {eff:>7}")
    for c in (1, 2):
        read, score = f"spark local[{c}] read only", f"spark local[{c}] read + l2core.spark.score"
        if read in results and score in results and arrow in results:
            added = med(score, "cpu_s") - med(read, "cpu_s")
            print(f"spark local[{c}]: scoring adds {added:.2f} CPU-s to the read, {added / len(texts) * 1e6:.1f} us/row; "
                  f"CPU eff of that step {med(arrow, 'cpu_s') / added:.2f}")
    print("walls (s): " + "; ".join(f"{k}: {', '.join(f'{w:.2f}' for w in v['wall_s'])}" for k, v in results.items()))
    print("CPU (s): " + "; ".join(f"{k}: {', '.join(f'{w:.2f}' for w in v['cpu_s'])}" for k, v in results.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": _cpu_model(), "rows": len(texts), "mean_chars": mean_chars, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
