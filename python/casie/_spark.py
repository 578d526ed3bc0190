"""_spark.py - casie over a Spark DataFrame of articles (PySpark).

    from casie import spark_read_articles, spark_extract, spark_events
    records = spark_read_articles(spark, "articles.jsonl")  # or a Parquet file or folder
    docs = spark_extract(records, model="fast").persist()    # source, id, document, error
    spark_jsonl(docs).write.text("events-jsonl")              # the lines casie extract --jsonl writes
    spark_events(docs).write.parquet("events-table")          # a row per argument of each event

Each Python worker loads the model once, on its first partition, and keeps
it for every partition after (Spark reuses its Python workers:
spark.python.worker.reuse, true by default), so a model is loaded once per
worker process, not per partition or record.  A partition's records are
extracted one after another on one thread; Spark's cores (one task, one
Python worker each) are the parallelism.  A record that cannot be read or
extracted becomes a row with its error and never fails the job.

pyspark is imported only when these functions are called: `import casie`
does not need it.  examples/spark_extract.py is the script over these.

Not here: one record's extraction (_records.py).
"""
import os
import threading

from ._records import extract_record, record_id

__all__ = ["spark_read_articles", "spark_extract", "spark_jsonl", "spark_events", "DOC_COLUMNS"]

#: the columns of spark_extract's DataFrame
DOC_COLUMNS = [
    "source",    # where the record came from: "INPUT:N", its line (JSONL) or row (Parquet), from 1
    "id",        # the document's id ("id", else "sourcefile" without .txt), or null
    "document",  # its CASIE JSON with scores, one line, as `casie extract --jsonl` writes it; null for an error
    "error",     # why the record gave no document (the CLI's message), else null
]

# Per Python worker process: the models loaded, by (name, pid).  A forked
# child must not use its parent's handle (the pid in the key).
_models = {}
_models_lock = threading.Lock()


def _model(name):
    """The Model named `name`, loaded on this process's first call and kept;
    (model, True) when this call loaded it."""
    from .model import Model

    key = (name, os.getpid())
    with _models_lock:
        m = _models.get(key)
        if m is not None:
            return m, False
        m = Model(name)
        _models[key] = m
        return m, True


def _is_blank(line):
    return not line.strip(" \t\r\n\f\v")


def _extract_partition(model, trigger_threshold, arg_threshold, loads):
    """The function mapPartitions runs: (record, source) pairs in, rows of
    DOC_COLUMNS out, one per record, in order."""

    def run(pairs):
        m = None
        params = None
        for record, source in pairs:
            if m is None:  # loaded (or found) on the first record, so an empty partition loads nothing
                try:
                    m, loaded = _model(model)
                except Exception as e:  # a missing model: every record says so, the job goes on
                    yield (source, record_id(record), None, "cannot load model %r: %s" % (model, e))
                    continue
                if loaded and loads is not None:
                    loads.add(1)
                params = m._params(trigger_threshold, arg_threshold)
            try:
                doc, error = extract_record(m, record, source, params)
            except Exception as e:  # never fails the job
                doc, error = None, "%s: %s" % (source, e)
            yield (source, record_id(record), doc, error)

    return run


def _doc_schema():
    from pyspark.sql.types import StringType, StructField, StructType

    return StructType([StructField(c, StringType(), True) for c in DOC_COLUMNS])


def spark_read_articles(spark, path, name=None):
    """A DataFrame of records (columns `record`: a JSON record as text,
    `source`: "NAME:N") read from `path`: a JSONL file or folder of them
    (a path ending in .parquet, or a folder of .parquet files, is read as
    Parquet).  name: what `source` names (default `path`, as the CLI names
    its input file).  JSONL: each line is a record, N its line number (blank
    lines skipped, as the CLI skips them; N counts lines across the files in
    Spark's order, so it is the line for a single file).  Parquet: each row
    becomes the JSON record of all its columns ({"id": ..., "text": ...},
    or "content" and "sourcefile"), N its row number."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    name = path if name is None else name
    if _is_parquet(path):
        df = spark.read.parquet(path)
        rdd = df.select(F.to_json(F.struct(*df.columns)).alias("r")).rdd.map(lambda row: row[0])
    else:
        # a line as the CLI reads it, its newline kept (a parser's message
        # on a truncated record names the same position)
        rdd = spark.sparkContext.textFile(path).map(lambda line: line + "\n")
    pairs = rdd.zipWithIndex().filter(lambda p: not _is_blank(p[0]))
    pairs = pairs.map(lambda p: (p[0], "%s:%d" % (name, p[1] + 1)))
    schema = StructType([StructField("record", StringType(), False), StructField("source", StringType(), False)])
    return spark.createDataFrame(pairs, schema)


def _is_parquet(path):
    p = path.rstrip("/")
    if p.endswith(".parquet"):
        return True
    if os.path.isdir(p):
        names = os.listdir(p)
        return any(n.endswith(".parquet") for n in names) and not any(n.endswith((".jsonl", ".json")) for n in names)
    return False


def spark_extract(records, model="fast", *, trigger_threshold=None, arg_threshold=None, loads=None):
    """Extracts the events of each record of a DataFrame: `records` has a
    column `record` (a JSON record as text, as spark_read_articles gives)
    and a column `source` (its place, named in error messages); or columns
    `id` and `text` (or `content`), whose rows become records.  model:
    "fast", "accurate" or a path every worker can read, loaded once per
    Python worker.  The thresholds: as Model.extract's.  loads: an optional
    Spark accumulator, counting the model loads (a test's check).

    Returns a DataFrame of DOC_COLUMNS (source, id, document, error), one
    row per record, in the records' order within each partition."""
    from pyspark.sql import functions as F

    # checked here, on the driver, so that a bad threshold fails at once
    from .model import Model

    Model._params(trigger_threshold, arg_threshold)
    cols = records.columns
    if "record" not in cols:
        fields = [c for c in cols if c != "source"]
        if "source" in cols:
            records = records.select(F.to_json(F.struct(*fields)).alias("record"), "source")
        else:
            rows = records.select(F.to_json(F.struct(*fields)).alias("record")).rdd.zipWithIndex()
            records = rows.map(lambda p: (p[0][0], "row:%d" % (p[1] + 1))).toDF(["record", "source"])
    elif "source" not in cols:
        records = records.select("record", F.lit("").alias("source"))
    pairs = records.select("record", "source").rdd.map(lambda r: (r[0], r[1]))
    out = pairs.mapPartitions(_extract_partition(model, trigger_threshold, arg_threshold, loads))
    return records.sparkSession.createDataFrame(out, _doc_schema())


def spark_jsonl(docs):
    """A one-column DataFrame (`value`) of the lines `casie extract --jsonl`
    writes for spark_extract's rows: the document, or for an error
    {"id": SOURCE, "error": MESSAGE}.  Its .write.text(DIR) writes them as
    JSONL part files."""
    from pyspark.sql import functions as F

    err = F.to_json(F.struct(F.col("source").alias("id"), F.col("error").alias("error")))
    return docs.select(F.coalesce(F.col("document"), err).alias("value"))


def _event_schema():
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

    from .frame import EVENT_COLUMNS

    types = {int: LongType(), float: DoubleType(), str: StringType()}
    return StructType([StructField(c, types[conv], True) for c, conv in zip(EVENT_COLUMNS, _CONVERT)])


def _converters():
    from .frame import EVENT_COLUMNS, INT_COLUMNS

    ints = set(INT_COLUMNS)
    floats = {"trigger_score", "arg_score"}
    return [int if c in ints else float if c in floats else str for c in EVENT_COLUMNS]


_CONVERT = _converters()


def _event_rows(rows):
    import json

    from .frame import _rows

    for row in rows:
        if row.document is None:
            continue
        doc = json.loads(row.document)
        for r in _rows([doc]):
            if row.id is not None:
                r[0] = row.id
            elif r[0] == "0":  # a record without id or sourcefile: named by its place
                r[0] = row.source
            yield tuple(None if v is None else conv(v) for conv, v in zip(_CONVERT, r))


def spark_events(docs):
    """The flattened events of spark_extract's rows: a DataFrame of
    casie.EVENT_COLUMNS (as casie.events_frame), one row per argument of each
    event (an event without arguments: one row, its argument columns null);
    doc_id is the row's id (or its source when the record had none).  Rows
    with an error give none."""
    return docs.sparkSession.createDataFrame(docs.rdd.mapPartitions(_event_rows), _event_schema())
