"""to_stix and render give what the CLI gives; events_frame's table."""
import json
import sys

import pytest

import casie
from conftest import SAMPLE, cli_json, run_cli


@pytest.fixture(scope="module")
def doc(fast):
    return fast.extract_file(SAMPLE)


def test_stix_as_cli(doc):
    want = cli_json("extract", "-m", "fast", "--format", "stix", SAMPLE)
    got = casie.to_stix(doc)
    assert got == want
    assert got["type"] == "bundle" and any(o["type"] == "report" for o in got["objects"])
    assert casie.to_stix(json.dumps(doc)) == want  # its JSON text too


def test_render_as_cli(doc):
    want = run_cli("render", stdin=json.dumps(doc).encode())
    got = casie.render(doc)
    assert got == want
    assert got.startswith("<!DOCTYPE html>") and got.count("<section") == 1
    assert casie.render([doc, doc]).count("<section") == 2


def test_render_escapes():
    page = casie.render({"id": "x", "text": "<script>alert(1)</script>"})
    assert page.count("<script>") == 1 and "&lt;script&gt;" in page  # the page's filters only


def test_frame(doc):
    df = casie.events_frame([doc, doc])
    assert list(df.columns) == casie.EVENT_COLUMNS
    events = [e for h in doc["cyberevent"]["hopper"] for e in h["events"]]
    rows = sum(max(1, len(e.get("argument", []))) for e in events)
    assert len(df) == 2 * rows
    assert set(df["doc_id"]) == {"sample-article"}
    first = events[0]
    r = df.iloc[0]
    assert r["subtype"] == first["subtype"] and r["trigger"] == first["nugget"]["text"]
    assert r["trigger_score"] == pytest.approx(first["nugget"]["score"])
    a = first["argument"][0]
    assert (r["role"], r["entity_type"], r["argument"]) == (a["role"]["type"], a["type"], a["text"])
    assert (r["arg_start"], r["arg_end"]) == (a["startOffset"], a["endOffset"])
    text = doc["content"]
    for _, row in df.iterrows():  # every span is its text
        assert text[row["trigger_start"]:row["trigger_end"]] == row["trigger"]
        if row["argument"] is not None:
            assert text[int(row["arg_start"]):int(row["arg_end"])] == row["argument"]
    assert len(casie.events_frame(doc)) == rows  # one dict
    assert len(casie.events_frame([])) == 0


def test_frame_event_without_arguments():
    doc = {"sourcefile": "n.txt", "content": "It was hacked.", "cyberevent": {"hopper": [{"events": [
        {"index": "E1", "type": "Attack", "subtype": "Databreach", "realis": "Actual",
         "nugget": {"startOffset": 7, "endOffset": 13, "text": "hacked"}}]}]}}
    df = casie.events_frame([doc])
    assert len(df) == 1 and df.iloc[0]["role"] is None and df.iloc[0]["doc_id"] == "n"


def test_frame_without_pandas(monkeypatch, doc):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    with pytest.raises(ImportError, match="pip install pandas"):
        casie.events_frame([doc])
