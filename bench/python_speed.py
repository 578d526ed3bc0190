#!/usr/bin/env python3
"""python_speed.py - the Python package's extract_many against the CLI.

Extracts the dev articles (the corpus's source files, splits/dev.txt) with
    casie extract -m MODEL --threads N -o DIR --force FILES   (the CLI process)
    with Model(MODEL) as m: list(m.extract_many(paths, threads=N))
each timed whole (the model loaded each time, as the CLI loads it), for N = 1
and 2, in rounds that rotate the order of the four runs (so a load
that comes and goes on a shared machine hits each alike), and prints the
median and best wall time of each with its CPU time over wall time (how
much of the cores it got), the 2-thread speedups, and Python's time over the
CLI's.  It checks first that Python's documents equal the CLI's.

Run with the package installed (scripts/test_python.sh builds build/pyenv):
    build/pyenv/bin/python bench/python_speed.py --model fast --rounds 9
    build/pyenv/bin/python bench/python_speed.py --model accurate --rounds 3
--pair instead runs one long text (the sample article 40 times) on one
thread, then two copies on two threads, in Python (threads sharing a Model)
and in the CLI, printing wall and CPU seconds: on a machine with two free
cores two copies take about the time of one.
"""
import argparse
import json
import os
import resource
import pathlib
import statistics
import subprocess
import tempfile
import threading
import time

import casie

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="fast", help="fast, accurate or a path (default fast)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--corpus", default=os.environ.get("CASIE_CORPUS", str(ROOT.parent / "shared" / "casie")))
    ap.add_argument("--cli", default=str(ROOT / "build" / "casie"))
    ap.add_argument("--pair", action="store_true", help="one long text on 1 thread, then two on 2 threads")
    a = ap.parse_args()
    if a.pair:
        return pair(a)
    corpus = pathlib.Path(a.corpus)
    ids = (corpus / "splits" / "dev.txt").read_text().split()
    paths = [corpus / "source" / ("%s.txt" % i) for i in ids]
    nbytes = sum(p.stat().st_size for p in paths)
    out = tempfile.mkdtemp(prefix="casie-pybench-")

    def cpu(who):
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def cli(threads):
        c0, t0 = cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run([a.cli, "extract", "-m", a.model, "--threads", str(threads), "-o", out, "--force",
                        *map(str, paths)], check=True, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0, cpu(resource.RUSAGE_CHILDREN) - c0

    def py(threads, keep=None):
        """One job as the CLI runs it: load the model, extract, free it."""
        c0, t0 = cpu(resource.RUSAGE_SELF), time.perf_counter()
        with casie.Model(a.model) as model:
            docs = list(model.extract_many(paths, threads=threads))
        took = time.perf_counter() - t0, cpu(resource.RUSAGE_SELF) - c0
        assert len(docs) == len(paths)
        if keep is not None:
            keep.extend(docs)
        return took

    # the same documents first
    cli(2)
    docs = []
    py(2, docs)
    for i, d in zip(ids, docs):
        with open(os.path.join(out, "%s.json" % i), encoding="utf-8") as f:
            assert json.load(f) == d, "document %s differs from the CLI's" % i
    print("%d dev articles, %d bytes, model %s: Python's documents equal the CLI's" % (len(paths), nbytes, a.model))

    order = [("cli", 1), ("cli", 2), ("py", 1), ("py", 2)]
    times = {k: [] for k in order}
    for r in range(a.rounds):
        for k in order[r % 4:] + order[:r % 4]:
            times[k].append((cli if k[0] == "cli" else py)(k[1]))
    med = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    best = {k: min(w for w, _ in v) for k, v in times.items()}
    # CPU seconds over wall seconds: near the thread count on an idle machine,
    # lower when other work took the cores
    util = {k: statistics.median(c / w for w, c in v) for k, v in times.items()}
    print("%-30s %9s %9s %10s %9s" % ("run (%d rounds)" % a.rounds, "median s", "best s", "KB/s (med)", "CPU/wall"))
    names = {"cli": "casie extract -o DIR", "py": "Model + extract_many"}
    for k in order:
        print("%-30s %9.3f %9.3f %10.1f %9.2f" % ("%s, %d thread%s" % (names[k[0]], k[1], "s" if k[1] > 1 else ""),
                                                  med[k], best[k], nbytes / 1024 / med[k], util[k]))
    for m in ("cli", "py"):
        print("%s: 2 threads %.2fx one (median), %.2fx (best)"
              % (names[m], med[(m, 1)] / med[(m, 2)], best[(m, 1)] / best[(m, 2)]))
    print("Python, 2 threads, over the CLI's time: %.3f (median), %.3f (best)"
          % (med[("py", 2)] / med[("cli", 2)], best[("py", 2)] / best[("cli", 2)]))
    # the part that holds the GIL: turning each result into a dict (the
    # arguments' checks are microseconds); Amdahl's law bounds 2 threads by it
    texts = [json.dumps(d, ensure_ascii=False) for d in docs]
    t0 = time.perf_counter()
    for t in texts:
        json.loads(t)
    held = (time.perf_counter() - t0) / best[("py", 1)]
    print("GIL held (json.loads): %.1f%% of one thread's best time; 2 threads at most %.2fx"
          % (100 * held, 1 / (held + (1 - held) / 2)))


def pair(a):
    text = (ROOT / "examples" / "sample-article.txt").read_text(encoding="utf-8") * 40
    tmp = tempfile.mkdtemp(prefix="casie-pybench-")
    files = []
    for k in (1, 2):
        files.append(os.path.join(tmp, "long%d.txt" % k))
        with open(files[-1], "w", encoding="utf-8") as f:
            f.write(text)
    model = casie.Model(a.model)
    model.extract(text)  # warm

    def cpu(who):
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def py(n):
        ts = [threading.Thread(target=model.extract, args=(text,)) for _ in range(n)]
        c0, t0 = cpu(resource.RUSAGE_SELF), time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.perf_counter() - t0, cpu(resource.RUSAGE_SELF) - c0

    def cli(n):
        c0, t0 = cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run([a.cli, "extract", "-m", a.model, "--threads", str(n), *files[:n]], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0, cpu(resource.RUSAGE_CHILDREN) - c0

    print("%d KB of text, model %s: wall and CPU seconds" % (len(text.encode()) // 1024, a.model))
    for r in range(a.rounds):
        for name, f in (("Python", py), ("CLI", cli)):
            (w1, c1), (w2, c2) = f(1), f(2)
            print("%-6s 1 text, 1 thread: %.3f s (CPU %.3f)   2 texts, 2 threads: %.3f s (CPU %.3f)   %.2fx the time"
                  % (name, w1, c1, w2, c2, w2 / w1))


if __name__ == "__main__":
    main()
