#!/usr/bin/env python3
"""spark_extract.py - casie over a corpus of articles with Apache Spark.

    python examples/spark_extract.py --model fast --input articles.jsonl --output out/ [--events events/]
    spark-submit --master yarn examples/spark_extract.py --model accurate --input s3a://feeds/2024/ --output ...

Reads JSONL records ({"id": ..., "text": ...}, or "content" and "sourcefile",
as `casie extract --jsonl` reads them) or Parquet rows (columns id and text;
every column goes into the record), extracts each article's events with the
casie package on the executors (each Python worker loads the model once and
keeps it for all its partitions), and writes:

  --output DIR   JSONL part files, one line per document exactly as
                 `casie extract --jsonl` writes it (its errors as
                 {"id": "INPUT:LINE", "error": ...}), so the two compare line
                 for line; without --partitions, in input order;
  --events DIR2  the flattened events as Parquet, a row per argument of each
                 event (casie.EVENT_COLUMNS: doc_id, hopper, event, type,
                 subtype, realis, trigger, its offsets and score, role,
                 entity_type, argument, its offsets and score).

A record that cannot be read or extracted becomes an error row; it never
fails the job.  The exit status is 0 when the job ran (errors included; they
are counted on stderr), 2 for a usage error.  Every machine running a
worker needs the casie wheel installed (scripts/build_wheel.sh makes one
that carries its libraries and models) and, with --model accurate, its
encoder (bundled in the wheel when it was built with one).
"""
import argparse
import os
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="spark_extract.py", description="Extract cybersecurity events from articles with casie on Spark."
    )
    p.add_argument("--model", default="fast", help="fast, accurate, or a model file every worker can read (default fast)")
    p.add_argument("--input", required=True, help="IN.jsonl (a file or folder of JSONL) or IN.parquet (a file or folder)")
    p.add_argument("--output", required=True, help="DIR: JSONL part files, one line per document")
    p.add_argument("--events", help="DIR2: the flattened events, as Parquet")
    p.add_argument("--partitions", type=int, help="spread the records over N partitions (default: as read)")
    p.add_argument("--trigger-threshold", type=float, help="keep triggers scoring at least this (0..1)")
    p.add_argument("--arg-threshold", type=float, help="keep arguments scoring at least this (0..1)")
    p.add_argument("--force", action="store_true", help="replace DIR and DIR2 when they exist")
    p.add_argument("--master", help="the Spark master when not run by spark-submit (default local[*])")
    return p.parse_args(argv)


def run(spark, args, loads=None):
    """The job on an open SparkSession; returns (documents, errors)."""
    from casie import spark_events, spark_extract, spark_jsonl, spark_read_articles

    records = spark_read_articles(spark, args.input)
    if args.partitions:
        records = records.repartition(args.partitions)
    docs = spark_extract(
        records,
        args.model,
        trigger_threshold=args.trigger_threshold,
        arg_threshold=args.arg_threshold,
        loads=loads,
    )
    # extracted once, read by both outputs and the counts
    docs = docs.persist()
    mode = "overwrite" if args.force else "errorifexists"
    try:
        spark_jsonl(docs).write.mode(mode).text(args.output)
        if args.events:
            spark_events(docs).write.mode(mode).parquet(args.events)
        errors = docs.filter(docs.error.isNotNull()).count()
        total = docs.count()
    finally:
        docs.unpersist()
    return total - errors, errors


def main(argv=None, spark=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print("spark_extract: pyspark is not installed (pip install pyspark)", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    own = spark is None
    if own:
        if "PYSPARK_GATEWAY_PORT" not in os.environ:
            # run by python, not spark-submit: the workers run this interpreter,
            # the one with casie installed (else they would run python3 from PATH)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        b = SparkSession.builder.appName("casie-extract")
        if args.master:
            b = b.master(args.master)
        spark = b.getOrCreate()
    try:
        docs, errors = run(spark, args)
    finally:
        if own:
            spark.stop()
    print("spark_extract: %d documents, %d errors -> %s" % (docs, errors, args.output), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
