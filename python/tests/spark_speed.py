"""spark_speed.py - articles per second: casie on Spark against `casie extract --jsonl`.

    build/distenv/bin/python python/tests/spark_speed.py [--model fast] [--docs 100] [--repeat 3] [--rounds 3]

(with the casie wheel installed in build/distenv: pip install build/wheel/casie-*.whl)

Input: the first --docs dev articles (the corpus's annotation files, as JSONL
records) repeated --repeat times, in a temporary folder.  For N = 1 and 2
cores, in rounds that alternate the runs:
  - `build/casie extract -m MODEL --jsonl --threads N IN > OUT`, the whole
    process timed (model load included);
  - Spark local[N] (one executor, N cores, N Python workers): the job of
    examples/spark_extract.py (read, extract, write the JSONL part files),
    timed from the job's start, in a session started beforehand; the first
    job of a session also loads the model in each worker, later ones reuse
    it, so both are reported ("cold" and "warm").
Prints a table: median seconds, articles per second, and Spark's overhead
per article against the CLI on the same cores ((spark - cli) / articles).
Not a test: make test does not run it.
"""
import argparse
import importlib.util
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = pathlib.Path(os.environ.get("CASIE_CORPUS", ROOT.parent / "shared" / "casie"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="fast")
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spec = importlib.util.spec_from_file_location("spark_extract", ROOT / "examples" / "spark_extract.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    from pyspark.sql import SparkSession

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="casie-spark-speed-"))
    ids = (CORPUS / "splits" / "dev.txt").read_text().split()[: a.docs]
    recs = [json.dumps(json.loads((CORPUS / "annotation" / (i + ".json")).read_text()), ensure_ascii=False) for i in ids]
    inp = tmp / "in.jsonl"
    inp.write_text("\n".join(recs * a.repeat) + "\n", encoding="utf-8")
    n = len(recs) * a.repeat
    kb = inp.stat().st_size / 1024
    print("input: %d articles, %.0f KB; model %s; load average %s" % (n, kb, a.model, os.getloadavg()), flush=True)
    times = {}

    def cli(cores):
        t = time.time()
        with open(tmp / "cli.jsonl", "wb") as out:
            r = subprocess.run([str(ROOT / "build" / "casie"), "extract", "-m", a.model, "--jsonl", "--threads",
                                str(cores), str(inp)], stdout=out, stderr=subprocess.DEVNULL)
        assert r.returncode == 0
        return time.time() - t

    for cores in (1, 2):
        t = time.time()
        spark = (SparkSession.builder.master("local[%d]" % cores).appName("casie-speed")
                 .config("spark.ui.enabled", "false").config("spark.driver.memory", "1g").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        times.setdefault("jvm start", []).append(time.time() - t)
        for k in range(a.rounds + 1):
            args = ex.parse_args(["--model", a.model, "--input", str(inp), "--output", str(tmp / "out"),
                                  "--force", "--partitions", str(2 * cores)])
            t = time.time()
            docs, errors = ex.run(spark, args)
            el = time.time() - t
            assert (docs, errors) == (n, 0)
            times.setdefault(("spark cold" if k == 0 else "spark warm", cores), []).append(el)
            if k:
                times.setdefault(("cli", cores), []).append(cli(cores))
        spark.stop()
        got = sorted(l for f in (tmp / "out").glob("part-*") for l in f.read_text(encoding="utf-8").splitlines())
        assert got == sorted((tmp / "cli.jsonl").read_text(encoding="utf-8").splitlines())

    print("| run | cores | median s | best s | articles/s (median) |")
    print("|---|---|---|---|---|")
    for key in [("cli", 1), ("spark warm", 1), ("spark cold", 1), ("cli", 2), ("spark warm", 2), ("spark cold", 2)]:
        v = times[key]
        m = statistics.median(v)
        print("| %s | %d | %.2f | %.2f | %.1f |" % (key[0], key[1], m, min(v), n / m))
    for cores in (1, 2):
        over = (statistics.median(times[("spark warm", cores)]) - statistics.median(times[("cli", cores)])) / n
        print("Spark's overhead per article, %d core(s), warm: %.2f ms" % (cores, over * 1000))
    print("JVM start (SparkSession): %s s" % ", ".join("%.1f" % x for x in times["jvm start"]))
    print("load average after: %s" % (os.getloadavg(),))


if __name__ == "__main__":
    main()
