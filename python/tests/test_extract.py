"""Model.extract and casie.extract give what the CLI gives."""
import warnings

import pytest

import casie
from conftest import ROOT, SAMPLE, as_cli, cli_json, has_encoder, run_cli


def test_sample_file_as_cli(fast):
    want = cli_json("extract", "-m", "fast", SAMPLE)
    got = fast.extract_file(SAMPLE)
    assert as_cli(got) == want
    assert len(got["cyberevent"]["hopper"]) >= 3  # the sample has events


def test_sample_text_as_cli(fast, sample_text):
    want = cli_json("extract", "-m", "fast", SAMPLE)
    got = as_cli(fast.extract(sample_text, "sample-article"))
    assert got.pop("info") == {"type": "text"}  # a plain text has no title, date or link
    want.pop("info")
    assert got == want


def test_thresholds_as_cli(fast):
    want = cli_json("extract", "-m", "fast", "--trigger-threshold", "0.6", "--arg-threshold", "0.5", SAMPLE)
    got = fast.extract_file(SAMPLE, trigger_threshold=0.6, arg_threshold=0.5)
    assert as_cli(got) == want
    full = fast.extract_file(SAMPLE)
    n = lambda d: sum(len(e.get("argument", [])) for h in d["cyberevent"]["hopper"] for e in h["events"])
    assert n(got) < n(full)  # the thresholds dropped something


def test_no_id():
    d = casie.Model("fast").extract("Hackers stole 2 million records from Acme Corp.")
    assert "sourcefile" not in d
    assert d["content"] == "Hackers stole 2 million records from Acme Corp."


def test_offsets_index_the_str(fast):
    text = ("Hackers stole \u00a32 million from \u201cAcme\u201d \u2014 the bank said on Monday that "
            "attackers breached its network and stole 40,000 customer records \U0001F512.")
    d = fast.extract(text, "uni")
    assert d["content"] == text
    spans = 0
    for h in d["cyberevent"]["hopper"]:
        for e in h["events"]:
            nug = e["nugget"]
            assert text[nug["startOffset"]:nug["endOffset"]] == nug["text"]
            for a in e.get("argument", []):
                assert text[a["startOffset"]:a["endOffset"]] == a["text"]
                spans += 1
    assert spans > 0
    # UTF-8 bytes are the same text
    assert fast.extract(text.encode("utf-8"), "uni") == d


def test_nul_in_text(fast):
    d = fast.extract("Hackers\0 breached Acme.")
    assert d["content"] == "Hackers\0 breached Acme."


def test_casie_extract_default_cached():
    d = casie.extract("Attackers breached Equifax.")
    assert d["content"] == "Attackers breached Equifax."
    assert casie.default_model() is casie.default_model()


@pytest.mark.skipif(not has_encoder(), reason="the encoder was not fetched before install (scripts/fetch_encoder.sh)")
def test_default_is_accurate_with_encoder(monkeypatch):
    monkeypatch.delenv("CASIE_MODEL", raising=False)
    monkeypatch.delenv("CASIE_ENCODER", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no note: the accurate model loaded
        m = casie.Model()
    assert m.note == ""
    want = cli_json("extract", "-m", "accurate", SAMPLE)
    assert as_cli(m.extract_file(SAMPLE)) == want
    assert as_cli(casie.Model("accurate").extract_file(SAMPLE)) == want


def test_default_falls_back_to_fast_with_note(monkeypatch):
    monkeypatch.delenv("CASIE_MODEL", raising=False)
    monkeypatch.setenv("CASIE_ENCODER", "/nonexistent/minilm-l6.enc")
    with pytest.warns(casie.CasieWarning, match="using the fast model"):
        m = casie.Model()
    assert "fast model" in m.note
    assert as_cli(m.extract_file(SAMPLE)) == cli_json("extract", "-m", "fast", SAMPLE)


def test_casie_model_env(monkeypatch):
    monkeypatch.setenv("CASIE_MODEL", "fast")
    m = casie.Model()
    assert m.name == "fast" and m.note == ""


def test_model_by_path(fast, tmp_path):
    import shutil
    p = tmp_path / "my.model"
    shutil.copyfile(ROOT / "models" / "casie-fast.model", p)
    m = casie.Model(p)  # a pathlib.Path
    assert m.extract_file(SAMPLE) == fast.extract_file(SAMPLE)
    assert m.metadata["casie_version"]


def test_closed_model():
    m = casie.Model("fast")
    with m:
        pass
    with pytest.raises(ValueError, match="closed"):
        m.extract("text")
    m.close()  # idempotent


def test_version():
    assert casie.libcasie_version == run_cli("--version").split()[-1] == casie.__version__


def test_numpy_thresholds(fast):
    numpy = pytest.importorskip("numpy")
    want = fast.extract_file(SAMPLE, trigger_threshold=0.5, arg_threshold=0.25)
    assert fast.extract_file(SAMPLE, trigger_threshold=numpy.float32(0.5), arg_threshold=numpy.float64(0.25)) == want
