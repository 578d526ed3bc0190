"""Bad input gets TypeError / ValueError / CasieError with casie's code, never a crash."""
import pytest

import casie
from conftest import ROOT, SAMPLE


@pytest.mark.parametrize("text", [None, 5, 3.5, ["a"], {"text": "a"}, object()])
def test_not_text(fast, text):
    with pytest.raises(TypeError, match="str or UTF-8 bytes"):
        fast.extract(text)


def test_lone_surrogate(fast):
    with pytest.raises(ValueError, match=r"character 8 \(U\+D800\) is a lone surrogate"):
        fast.extract("Hackers \ud800 stole")


def test_invalid_utf8(fast):
    with pytest.raises(ValueError, match="not valid UTF-8 at byte 7"):
        fast.extract(b"Hackers\xff stole")
    with pytest.raises(ValueError, match="not valid UTF-8 at byte 2"):
        fast.extract(b"ab\xc3")  # cut inside a sequence


def test_bad_id(fast):
    with pytest.raises(TypeError, match="id must be str or None"):
        fast.extract("text", 5)
    with pytest.raises(ValueError, match="NUL"):
        fast.extract("text", "a\0b")


@pytest.mark.parametrize("x", [-0.1, 1.5, float("nan")])
def test_bad_threshold(fast, x):
    with pytest.raises(ValueError, match="from 0 to 1"):
        fast.extract("text", trigger_threshold=x)
    with pytest.raises(ValueError, match="from 0 to 1"):
        fast.extract("text", arg_threshold=x)
    with pytest.raises(TypeError):
        fast.extract("text", arg_threshold="0.5")


def test_missing_model():
    with pytest.raises(casie.CasieError) as e:
        casie.Model("/nonexistent/x.model")
    assert e.value.code == -2 and e.value.status == "CASIE_ERR_IO"
    assert "/nonexistent/x.model" in e.value.message


def test_empty_model_name():
    # an empty name (an unset variable, a blank field) is refused, not read as the default
    with pytest.raises(casie.CasieError) as e:
        casie.Model("")
    assert e.value.status == "CASIE_ERR_INVALID_ARG"
    assert "empty model name" in e.value.message


def test_not_a_model(tmp_path):
    with pytest.raises(casie.CasieError) as e:
        casie.Model(SAMPLE)
    assert e.value.status == "CASIE_ERR_MODEL_MAGIC" and e.value.code == -6


def test_truncated_model(tmp_path):
    p = tmp_path / "cut.model"
    data = (ROOT / "models" / "casie-fast.model").read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(casie.CasieError) as e:
        casie.Model(p)
    assert e.value.status == "CASIE_ERR_MODEL_CORRUPT"
    assert str(p) in e.value.message


def test_missing_file(fast):
    with pytest.raises(casie.CasieError) as e:
        fast.extract_file("/nonexistent/article.txt")
    assert e.value.status == "CASIE_ERR_IO" and "/nonexistent/article.txt" in str(e.value)


def test_bad_documents():
    with pytest.raises(casie.CasieError) as e:
        casie.to_stix('{"content": ')
    assert e.value.status == "CASIE_ERR_PARSE"
    with pytest.raises(casie.CasieError) as e:
        casie.to_stix({"content": 5})
    assert e.value.status == "CASIE_ERR_SCHEMA"
    with pytest.raises(TypeError, match="dict"):
        casie.to_stix(5)
    with pytest.raises(ValueError, match="JSON"):
        casie.render({"content": "x", "bad": object()})
    with pytest.raises(ValueError, match="lone surrogate"):
        casie.to_stix({"content": "\udc80"})


def test_bad_items_in_stream(fast):
    it = fast.extract_many(["Hackers breached Acme.", 42, "more"], threads=2)
    assert next(it)["content"] == "Hackers breached Acme."
    with pytest.raises(TypeError, match="an item must be"):
        next(it)
    with pytest.raises(ValueError, match="threads"):
        fast.extract_many([], threads=0)
    with pytest.raises(ValueError, match='"text" or "content"'):
        list(fast.extract_many([{"id": "x"}], threads=1))

