#!/usr/bin/env python3
"""python_speed.py - the Python package's extract_many against the CLI.

Extracts the dev articles (the corpus's source files, splits/dev.txt) with
    casie extract -m MODEL --threads N -o DIR --force FILES   (the CLI, timed whole)
    Model(MODEL).extract_many(paths, threads=N)                (loaded once, not timed)
for N = 1 and 2, in rounds that rotate the order of the four runs (so a load
that comes and goes on a shared machine hits each alike), and prints the
median and best wall time of each, the 2-thread speedups, and Python's time
over the CLI's.  It checks first that Python's documents equal the CLI's.

Run with the package installed (scripts/test_python.sh builds build/pyenv):
    build/pyenv/bin/python bench/python_speed.py --model fast --rounds 9
    build/pyenv/bin/python bench/python_speed.py --model accurate --rounds 3
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

import casie

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="fast", help="fast, accurate or a path (default fast)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--corpus", default=os.environ.get("CASIE_CORPUS", str(ROOT.parent / "shared" / "casie")))
    ap.add_argument("--cli", default=str(ROOT / "build" / "casie"))
    a = ap.parse_args()
    corpus = pathlib.Path(a.corpus)
    ids = (corpus / "splits" / "dev.txt").read_text().split()
    paths = [corpus / "source" / ("%s.txt" % i) for i in ids]
    nbytes = sum(p.stat().st_size for p in paths)
    model = casie.Model(a.model)
    out = tempfile.mkdtemp(prefix="casie-pybench-")

    def cli(threads):
        t0 = time.perf_counter()
        subprocess.run([a.cli, "extract", "-m", a.model, "--threads", str(threads), "-o", out, "--force",
                        *map(str, paths)], check=True, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0

    def py(threads):
        t0 = time.perf_counter()
        docs = list(model.extract_many(paths, threads=threads))
        took = time.perf_counter() - t0
        assert len(docs) == len(paths)
        return took, docs

    # the same documents first
    cli(2)
    _, docs = py(2)
    for i, d in zip(ids, docs):
        with open(os.path.join(out, "%s.json" % i), encoding="utf-8") as f:
            assert json.load(f) == d, "document %s differs from the CLI's" % i
    print("%d dev articles, %d bytes, model %s: Python's documents equal the CLI's" % (len(paths), nbytes, a.model))

    runs = {("cli", 1): cli, ("cli", 2): cli, ("py", 1): lambda t: py(t)[0], ("py", 2): lambda t: py(t)[0]}
    order = list(runs)
    times = {k: [] for k in order}
    for r in range(a.rounds):
        for k in order[r % 4:] + order[:r % 4]:
            times[k].append(runs[k](k[1]))
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    print("%-28s %9s %9s %10s" % ("run (%d rounds)" % a.rounds, "median s", "best s", "KB/s (med)"))
    names = {"cli": "casie extract -o DIR", "py": "Model.extract_many"}
    for k in order:
        print("%-28s %9.3f %9.3f %10.1f" % ("%s, %d thread%s" % (names[k[0]], k[1], "s" if k[1] > 1 else ""),
                                            med[k], best[k], nbytes / 1024 / med[k]))
    for m in ("cli", "py"):
        print("%s: 2 threads %.2fx one (median), %.2fx (best)"
              % (names[m], med[(m, 1)] / med[(m, 2)], best[(m, 1)] / best[(m, 2)]))
    print("extract_many, 2 threads, over the CLI's time: %.3f (median), %.3f (best)"
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


if __name__ == "__main__":
    main()
