"""The memory bound: Model.memory_estimate covers what one extract takes (peak
RSS, VmHWM, measured in a fresh process on the densest texts found), and max_memory
refuses a text estimated over it before any work (CASIE_ERR_LIMIT), in
extract, extract_file, extract_many and casie.extract."""
import json
import subprocess
import sys
import textwrap
import time

import pytest

import casie
import casie.model

# The review's event-dense sentence, and the densest text found (an event and
# two arguments every 11 bytes, fast model); an emoji makes every str of the
# result 4 bytes a character, the conversion's worst (docs/PYTHON.md, "Memory").
DENSE = "Hackers stole the personal data of 2 million customers from Acme Bank, the company said on Monday. "
DENSEST = "X stole 5. "


def repeat(s, n, emoji=False):
    text = (s * (n // len(s) + 1))[:n]
    return "\U0001F600" + text[4:] if emoji else text


# The peak RSS of a fresh process, as VmHWM: its ru_maxrss (getrusage) starts
# at the RSS its parent had when it forked, which is pytest's and can be more
# than the child ever takes.
HWM = """
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
"""

# One Model.extract in a fresh process: argv[1] = [model, sentence, bytes,
# emoji]; prints what it measured as JSON.
PEAK = HWM + textwrap.dedent(
    """
    import json, sys, time, casie
    model, s, n, emoji = json.loads(sys.argv[1])
    text = (s * (n // len(s) + 1))[:n]
    if emoji:
        text = "\\U0001F600" + text[4:]
    m = casie.Model(model)
    m.extract("Hackers stole data from Acme.", "warm")
    est = m.memory_estimate(len(text.encode()))
    base = hwm()
    t = time.perf_counter()
    d = m.extract(text, "x", max_memory=est)
    t = time.perf_counter() - t
    grew = hwm() - base
    events = sum(len(h["events"]) for h in d["cyberevent"]["hopper"])
    print(json.dumps({"grew": grew, "estimate": est, "bytes": len(text.encode()), "events": events, "s": t}))
    """
)

# The conversion alone, in a fresh process: what Model.extract does in Python
# to the library's JSON (argv[1], a file) of a text (argv[2]): the text's UTF-8
# copy, the JSON's bytes, their str, json.loads.
CONVERSION = HWM + textwrap.dedent(
    """
    import json, sys
    text = open(sys.argv[2], "rb").read().decode()
    base = hwm()
    data = text.encode()
    jb = open(sys.argv[1], "rb").read()
    s = jb.decode("utf-8"); del jb
    d = json.loads(s); del s
    grew = hwm() - base
    print(json.dumps({"grew": grew, "bytes": len(data)}))
    """
)


def peak(model, s, n, emoji=False):
    """One Model.extract of n bytes of s repeated, in a fresh process: its peak
    RSS growth, its estimate, the events, the seconds."""
    r = subprocess.run(
        [sys.executable, "-c", PEAK, json.dumps([model, s, n, emoji])], capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize(
    "s, n, emoji", [(DENSE, 500_000, False), (DENSEST, 200_000, True)], ids=["dense-0.5MB", "densest-emoji-0.2MB"]
)
def test_peak_rss_under_estimate(s, n, emoji):
    got = peak("fast", s, n, emoji)
    assert got["events"] > n / 150, got  # event-dense indeed
    print("%d bytes: peak RSS +%.1f MB (%.0f B/B), estimate %.1f MB, %.2f s"
          % (got["bytes"], got["grew"] / 1e6, got["grew"] / got["bytes"], got["estimate"] / 1e6, got["s"]))
    assert got["grew"] < got["estimate"], got


def test_over_limit_refused_at_once(fast):
    text = repeat(DENSE, 100_000)
    est = fast.memory_estimate(len(text.encode()))
    t = time.perf_counter()
    with pytest.raises(casie.CasieError) as e:
        fast.extract(text, "big", max_memory=est - 1)
    refused = time.perf_counter() - t
    assert e.value.code == -5 and e.value.status == "CASIE_ERR_LIMIT"
    assert "100,000 bytes" in e.value.message
    assert "estimated %s bytes" % format(est, ",") in e.value.message
    assert "max_memory %s bytes" % format(est - 1, ",") in e.value.message
    t = time.perf_counter()
    d = fast.extract(text, "big", max_memory=est)  # at the estimate: extracts
    took = time.perf_counter() - t
    assert d["cyberevent"]["hopper"]
    assert refused < took / 20, "refusing took %.4f s, extracting %.3f s" % (refused, took)
    # the model stays usable, with and without a limit
    assert fast.extract("Hackers stole data from Acme.", max_memory=est)["cyberevent"]["hopper"]
    assert fast.extract("Hackers stole data from Acme.")["cyberevent"]["hopper"]


def test_estimate_grows_with_text(fast):
    e0, e1, e2 = (fast.memory_estimate(n) for n in (0, 1_000_000, 2_000_000))
    assert 0 < e0 < e1 < e2 and e2 - e1 == e1 - e0
    assert e0 >= casie.model.CONVERT_FIXED
    assert e1 - e0 >= casie.model.CONVERT_PER_BYTE * 1_000_000  # the library's part comes on top
    assert fast.memory_estimate(1 << 64) > fast.memory_estimate((1 << 64) - 1) >= 1 << 64  # no wrapping


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (1.5, TypeError), ("10", TypeError), (True, TypeError)])
def test_bad_estimate_size(fast, bad, exc):
    with pytest.raises(exc):
        fast.memory_estimate(bad)


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
                                      ("1GB", TypeError), (True, TypeError)])
def test_bad_max_memory(fast, bad, exc):
    with pytest.raises(exc, match="max_memory"):
        fast.extract("text", max_memory=bad)
    with pytest.raises(exc, match="max_memory"):
        fast.extract_many(["text"], max_memory=bad)


def test_json_checked_before_dicts(fast, monkeypatch):
    """A text whose JSON comes out denser than the estimate allows (possible
    only with a model denser than those measured) is refused before json.loads."""
    text = repeat(DENSEST, 20_000)
    monkeypatch.setattr(casie.model, "CONVERT_PER_BYTE", 0)
    est = fast.memory_estimate(len(text.encode()))
    with pytest.raises(casie.CasieError, match="bytes of JSON") as e:
        fast.extract(text, max_memory=est)
    assert e.value.status == "CASIE_ERR_LIMIT"


def test_module_extract(fast):
    with pytest.raises(casie.CasieError) as e:
        casie.extract("Hackers stole data from Acme.", max_memory=1000)
    assert e.value.status == "CASIE_ERR_LIMIT"
    assert casie.extract("Hackers stole data from Acme.", max_memory=1 << 30)["cyberevent"]["hopper"]


def test_extract_file(fast, tmp_path):
    p = tmp_path / "dense.txt"
    p.write_text(repeat(DENSE, 30_000))
    est = fast.memory_estimate(p.stat().st_size)
    with pytest.raises(casie.CasieError) as e:
        fast.extract_file(p, max_memory=est - 1)
    assert e.value.status == "CASIE_ERR_LIMIT" and str(p) in e.value.message
    assert fast.extract_file(p, max_memory=est) == fast.extract_file(p)
    with pytest.raises(casie.CasieError, match="not a regular file") as e:
        fast.extract_file("/dev/null", max_memory=1 << 30)
    assert e.value.status == "CASIE_ERR_LIMIT"
    with pytest.raises(casie.CasieError, match="No such file") as e:
        fast.extract_file(tmp_path / "missing.txt", max_memory=1 << 30)
    assert e.value.status == "CASIE_ERR_IO"


def test_extract_many(fast, monkeypatch):
    small = [repeat(DENSE, 3000 + 100 * i) for i in range(12)]
    one = fast.memory_estimate(len(small[-1].encode()))
    seen = []
    take = casie.model._Budget.take

    def spy(self, n):
        take(self, n)
        seen.append(self.used)

    monkeypatch.setattr(casie.model._Budget, "take", spy)
    # room for one extraction at a time though 4 threads: same results, in order
    got = list(fast.extract_many(small, threads=4, max_memory=one * 3 // 2))
    assert got == list(fast.extract_many(small, threads=2))
    assert len(seen) == 12 and max(seen) <= one * 3 // 2
    # an item over the limit alone raises in its turn; those before it came
    big = repeat(DENSE, 200_000)
    it = fast.extract_many(small[:2] + [big] + small[:1], threads=2, max_memory=one * 2)
    assert next(it) == got[0] and next(it) == got[1]
    with pytest.raises(casie.CasieError) as e:
        next(it)
    assert e.value.status == "CASIE_ERR_LIMIT"


def main(argv):
    """python tests/test_max_memory.py [--emoji] MODEL TEXT MB: the figures of
    docs/PYTHON.md, "Memory".  TEXT: dense, densest or a sentence, repeated to
    MB megabytes.  Prints the peak RSS growth of one Model.extract beside its
    memory_estimate, then that of the conversion to dicts alone (each in a
    fresh process)."""
    import ctypes
    import tempfile

    from casie import _native

    emoji = "--emoji" in argv
    model, s, mb = [a for a in argv if a != "--emoji"]
    s = {"dense": DENSE, "densest": DENSEST}.get(s, s)
    n = int(float(mb) * 1e6)
    got = peak(model, s, n, emoji)
    b = got["bytes"]
    print("%s, %s bytes%s: %d events; peak RSS +%.1f MB (%.0f B/B); memory_estimate %.1f MB (%.0f B/B); %.1f s"
          % (model, format(b, ","), ", an emoji" if emoji else "", got["events"], got["grew"] / 1e6,
             got["grew"] / b, got["estimate"] / 1e6, got["estimate"] / b, got["s"]))
    text = repeat(s, n, emoji).encode()
    m = casie.Model(model)
    err = _native.Error()
    doc = _native.lib.casie_doc_from_text(text, len(text), b"x", ctypes.byref(err))
    p = _native.lib.casie_extract_default_params()
    assert _native.lib.casie_extract(m._handle, doc, ctypes.byref(p), ctypes.byref(err)) == 0
    ln = ctypes.c_size_t(0)
    js = _native.take_string(_native.lib.casie_doc_to_json(doc, 3, ctypes.byref(ln), ctypes.byref(err)), ln.value)
    _native.lib.casie_doc_free(doc)
    with tempfile.TemporaryDirectory() as d:
        with open(d + "/doc.json", "wb") as f:
            f.write(js)
        with open(d + "/text.txt", "wb") as f:
            f.write(text)
        r = subprocess.run([sys.executable, "-c", CONVERSION, d + "/doc.json", d + "/text.txt"],
                           capture_output=True, text=True, check=True)
    g = json.loads(r.stdout)["grew"]
    print("  JSON %.1f bytes a byte; the conversion alone: peak RSS +%.1f MB, %.0f B/B of text, %.2f B/B of JSON"
          % (len(js) / b, g / 1e6, g / b, g / len(js)))


if __name__ == "__main__":
    main(sys.argv[1:])
