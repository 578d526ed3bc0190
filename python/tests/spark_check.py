"""spark_check.py - the Spark side of test_spark.py, in one Spark session.

    build/distenv/bin/python python/tests/spark_check.py IN.jsonl IN.parquet OUTDIR [--time-cores]

Runs examples/spark_extract.py's job (its run()) on Spark local[2]:
  1. IN.jsonl over 8 partitions, with --events: OUTDIR/jsonl, OUTDIR/events;
     the model loads counted with an accumulator;
  2. IN.parquet (the same records as rows id, text): OUTDIR/parquet-jsonl;
then reads the events Parquet back as JSON lines (OUTDIR/events.jsonl, for a
test without pyarrow) and writes OUTDIR/summary.json: the counts, the loads,
the partitions.  The checks against the CLI are test_spark.py's.
"""
import importlib.util
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_example():
    spec = importlib.util.spec_from_file_location("spark_extract", ROOT / "examples" / "spark_extract.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    jsonl, parquet, out = sys.argv[1:4]
    out = pathlib.Path(out)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    ex = load_example()
    t0 = time.time()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("casie-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    started = time.time() - t0
    summary = {"jvm_start_s": round(started, 2)}
    try:
        # the Parquet input: the JSONL's well-formed records as rows (id, text)
        rows = []
        for line in open(jsonl, encoding="utf-8"):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict) and isinstance(r.get("content"), str):
                rows.append((r["sourcefile"][:-4], r["content"]))
        spark.createDataFrame(rows, "id string, text string").coalesce(1).write.parquet(parquet)

        loads = spark.sparkContext.accumulator(0)
        args = ex.parse_args(
            ["--model", "fast", "--input", jsonl, "--output", str(out / "jsonl"),
             "--events", str(out / "events"), "--partitions", "8"]
        )
        t = time.time()
        summary["jsonl"] = ex.run(spark, args, loads=loads)
        summary["jsonl_s"] = round(time.time() - t, 2)
        summary["loads"] = loads.value
        summary["partitions"] = 8

        args = ex.parse_args(["--model", "fast", "--input", parquet, "--output", str(out / "parquet-jsonl")])
        summary["parquet"] = ex.run(spark, args)

        with open(out / "events.jsonl", "w", encoding="utf-8") as f:
            for row in spark.read.parquet(str(out / "events")).toJSON().collect():
                f.write(row + "\n")
        summary["events_schema"] = [(fl.name, fl.dataType.simpleString()) for fl in spark.read.parquet(str(out / "events")).schema]
    finally:
        spark.stop()
    (out / "summary.json").write_text(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
