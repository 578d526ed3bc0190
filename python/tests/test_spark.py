"""casie over Spark (examples/spark_extract.py, casie.spark_extract) against
`casie extract --jsonl` on the same records.

One Spark session (local[2]; the JVM takes seconds to start) runs
python/tests/spark_check.py with build/distenv's PySpark and the wheel
scripts/build_wheel.sh made, installed there: 36 dev articles as JSONL
records, with a malformed record, a record whose text is a number and a
blank line among them, over 8 partitions, and the same articles as Parquet
rows (id, text).  Checked here:
  - the JSONL part files hold, line for line (order aside), what the CLI
    writes for the same file: every document byte for byte, and each bad
    record as the same error line;
  - the Parquet run gives the CLI's documents for the same records;
  - the events table is casie's flattening of the CLI's documents;
  - each Python worker loaded the model once: at most 2 loads (local[2])
    for 8 partitions.
Skipped, saying why, only without a Java runtime or PySpark (scripts/setup.sh
and scripts/dist_env.sh install them; under CI a skip fails the run).
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import CLI, CORPUS, DISTENV, ROOT

N_DOCS = 36
BAD = '{"id": "bad", "text": "no end\n'
NUMBER = '{"id": "number", "text": 5}\n'


def dev_ids():
    p = CORPUS / "splits" / "dev.txt"
    if not p.exists():
        pytest.skip("no corpus at %s (set CASIE_CORPUS)" % CORPUS)
    return p.read_text().split()[:N_DOCS]


@pytest.fixture(scope="module")
def spark_run(built_wheel, tmp_path_factory):
    if not shutil.which("java"):
        pytest.skip("no Java runtime: scripts/setup.sh installs default-jre-headless")
    py = DISTENV / "bin" / "python"
    if not py.exists() or subprocess.run([str(py), "-c", "import pyspark"], capture_output=True).returncode:
        pytest.skip("no PySpark in %s: scripts/dist_env.sh installs it (pinned, hashed)" % DISTENV)
    # the cluster's view: the wheel, not the checkout
    subprocess.run([str(DISTENV / "bin" / "pip"), "install", "-q", "--no-deps", "--no-index", "--force-reinstall",
                    "--disable-pip-version-check", str(built_wheel)], check=True)
    d = tmp_path_factory.mktemp("spark")
    lines = []
    for i, name in enumerate(dev_ids()):
        doc = json.loads((CORPUS / "annotation" / (name + ".json")).read_text(encoding="utf-8"))
        lines.append(json.dumps(doc, ensure_ascii=False) + "\n")
        if i == 4:
            lines += [BAD, "\n"]
        if i == 20:
            lines.append(NUMBER)
    (d / "in.jsonl").write_text("".join(lines), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASIE_MODEL", "PYSPARK"))}
    env["PYSPARK_PYTHON"] = str(py)
    r = subprocess.run([str(py), str(ROOT / "python" / "tests" / "spark_check.py"), "in.jsonl", "in.parquet", "out"],
                       cwd=d, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return d, json.loads((d / "out" / "summary.json").read_text())


def cli_lines(path):
    """`casie extract -m fast --jsonl PATH`'s lines; it exits 1 when a record failed."""
    r = subprocess.run([str(CLI), "extract", "-m", "fast", "--jsonl", path.name], cwd=path.parent,
                       capture_output=True, check=False)
    assert r.returncode in (0, 1), r.stderr.decode()
    return r.stdout.decode("utf-8").splitlines()


def part_lines(folder):
    files = sorted(folder.glob("part-*"))
    assert files, "no part files in %s" % folder
    return [l for f in files for l in f.read_text(encoding="utf-8").splitlines()]


def test_spark_jsonl_equals_cli(spark_run):
    d, summary = spark_run
    cli = cli_lines(d / "in.jsonl")
    spark = part_lines(d / "out" / "jsonl")
    assert len(cli) == N_DOCS + 2
    assert sorted(spark) == sorted(cli)
    assert summary["jsonl"] == [N_DOCS, 2]
    # the bad records' lines, named by their line numbers in the input, as the CLI names them
    src = (d / "in.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    bad = {"in.jsonl:%d" % (i + 1) for i, l in enumerate(src) if l in (BAD, NUMBER)}
    errors = {json.loads(l)["id"] for l in spark if '"error":' in l and l.startswith('{"id":"in.jsonl:')}
    assert errors == bad and len(bad) == 2


def test_spark_parquet_equals_cli(spark_run, tmp_path):
    d, summary = spark_run
    recs = []
    for l in (d / "in.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            r = json.loads(l)
        except ValueError:
            continue
        if isinstance(r, dict) and isinstance(r.get("content"), str):
            recs.append(json.dumps({"id": r["sourcefile"][:-4], "text": r["content"]}, ensure_ascii=False))
    (tmp_path / "rows.jsonl").write_text("\n".join(recs) + "\n", encoding="utf-8")
    cli = cli_lines(tmp_path / "rows.jsonl")
    assert sorted(part_lines(d / "out" / "parquet-jsonl")) == sorted(cli)
    assert summary["parquet"] == [N_DOCS, 0]


def test_spark_events_table(spark_run):
    from casie.frame import EVENT_COLUMNS, _rows

    d, summary = spark_run
    assert [c for c, _ in summary["events_schema"]] == EVENT_COLUMNS
    want = []
    for l in cli_lines(d / "in.jsonl"):
        doc = json.loads(l)
        if "error" not in doc:
            want += [tuple(r) for r in _rows([doc])]
    got = []
    for l in (d / "out" / "events.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(l)
        got.append(tuple(r.get(c) for c in EVENT_COLUMNS))
    key = lambda r: json.dumps(r)  # noqa: E731
    assert len(want) > N_DOCS
    assert sorted(got, key=key) == sorted(want, key=key)


def test_spark_model_loaded_once_per_worker(spark_run):
    _, summary = spark_run
    assert summary["partitions"] == 8
    assert 1 <= summary["loads"] <= 2, summary


def test_spark_extract_script_usage():
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "spark_extract.py"), "--help"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "--events" in r.stdout
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "spark_extract.py"), "--output", "x"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2 and "--input" in r.stderr
