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


def test_result_carries_id_and_names(fast):
    doc = fast.extract("The REvil gang breached Acme Corp. The gang demanded $5 million from Acme.", id="memo-7")
    assert list(doc)[0] == "id" and doc["id"] == "memo-7" and doc["sourcefile"] == "memo-7.txt"
    assert fast.extract("No events here.")["id"] is None
    assert fast.extract_file(SAMPLE)["id"] == "sample-article"
    text = doc["content"]
    args = [a for h in doc["cyberevent"]["hopper"] for e in h["events"] for a in e.get("argument", [])]
    named = [a for a in args if "name" in a]
    assert named, "no argument of this text stands for a name"
    for a in named:  # a name is a mention of the text, the argument's own when it names someone
        assert a["name"] in text
    # the frame and STIX take the result as it is
    assert set(casie.events_frame(doc)["doc_id"]) == {"memo-7"}
    assert casie.to_stix(doc)["type"] == "bundle"


def test_frame_columns_as_the_listing_numbers_them(doc):
    pandas = pytest.importorskip("pandas")
    df = casie.events_frame(dict(doc, info={"title": "T", "date": "2021_05_07", "type": "text"}))
    for c in ("hopper", "trigger_start", "trigger_end", "arg_start", "arg_end"):
        assert str(df[c].dtype) == "Int64", c
    listing = run_cli("extract", "-m", "fast", "--format", "text", SAMPLE)
    assert sorted(set(df["hopper"])) == list(range(1, listing.count("\nhopper ") + 1))
    assert set(df["title"]) == {"T"} and set(df["date"]) == {"2021_05_07"}
    cat = df[df["role"] == "Attack-Pattern"]
    assert len(cat) and all(isinstance(c, str) for c in cat["category"])
    no_args = casie.events_frame({"sourcefile": "n.txt", "content": "It was hacked.", "cyberevent": {"hopper": [
        {"events": [{"index": "E1", "type": "Attack", "subtype": "Databreach", "realis": "Actual",
                     "nugget": {"startOffset": 7, "endOffset": 13, "text": "hacked"}}]}]}})
    assert no_args["arg_start"].isna().all() and no_args["trigger_start"].iloc[0] == 7
    assert pandas.api.types.is_integer_dtype(no_args["trigger_start"])
