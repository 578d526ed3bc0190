"""One Model shared by threads: the same results, in order, with the GIL released."""
import threading
import time

import casie
from conftest import CORPUS, SAMPLE

import pytest

TEXTS = [
    "Hackers breached Acme Corp. and stole 2 million records.",
    "Microsoft patched CVE-2019-0708 in Windows 7 on Tuesday.",
    "A phishing e-mail asked users to pay $500 in Bitcoin.",
    "Researchers discovered a flaw in the router's firmware that lets attackers run code.",
    "The ransomware encrypted the city's servers and demanded 13 Bitcoin.",
]


def test_extract_many_in_order(fast):
    items = [TEXTS[i % len(TEXTS)] + " " * (i % 3) for i in range(40)]
    want = [fast.extract(t) for t in items]
    for threads in (1, 2, 4):
        got = list(fast.extract_many(iter(items), threads=threads))
        assert got == want


def test_extract_many_item_kinds(fast):
    items = ["Hackers breached Acme.", ("doc-2", "Hackers breached Acme."),
             {"id": "r3", "text": "Hackers breached Acme."}, {"sourcefile": "r4.txt", "content": "x"}, SAMPLE]
    got = list(fast.extract_many(items, threads=2))
    assert "sourcefile" not in got[0]
    assert [d.get("sourcefile") for d in got[1:]] == ["doc-2.txt", "r3.txt", "r4.txt", "sample-article.txt"]
    assert got[4] == fast.extract_file(SAMPLE)


def test_extract_many_is_lazy(fast):
    pulled = []

    def gen():
        for i in range(1000):
            pulled.append(i)
            yield TEXTS[i % len(TEXTS)]

    it = fast.extract_many(gen(), threads=2)
    next(it)
    assert len(pulled) <= 6  # a window of 2 x threads, not the whole stream
    it.close()


def test_python_threads_share_model(fast):
    want = [fast.extract(t) for t in TEXTS]
    out, errors = {}, []

    def work(k):
        try:
            out[k] = [fast.extract(t) for t in TEXTS * 4]
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    for k in range(4):
        assert out[k] == want * 4


def test_gil_released(fast):
    """While one thread extracts a long text, another keeps running Python:
    had the call held the GIL, the other would stall for the whole call."""
    text = open(SAMPLE, encoding="utf-8").read() * 100
    done = threading.Event()
    took = []

    def work():
        t0 = time.perf_counter()
        fast.extract(text)
        took.append(time.perf_counter() - t0)
        done.set()

    worker = threading.Thread(target=work)
    last = time.perf_counter()  # before the start: a held GIL stalls us from there
    worker.start()
    gaps, loops = [], 0
    while not done.is_set():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
        loops += 1
    worker.join()
    assert took[0] > 0.1, "the text is too short to tell"
    assert loops > 1000
    assert max(gaps) < took[0] / 2, (max(gaps), took[0])


def test_closing_waits_for_streams():
    m = casie.Model("fast")
    it = m.extract_many(TEXTS * 4, threads=2)
    first = next(it)
    m.close()  # the stream keeps the model until it ends
    rest = list(it)
    assert len(rest) == len(TEXTS) * 4 - 1 and first["content"] == TEXTS[0]
    with pytest.raises(ValueError, match="closed"):
        m.extract_many(TEXTS)
