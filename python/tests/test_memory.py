"""Memory does not grow over 1,000 calls (a leaked document, string or
model reference per call would show as megabytes)."""
import os

import casie
from conftest import SAMPLE


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_extract_1000_calls(fast):
    text = open(SAMPLE, encoding="utf-8").read()[:1500]
    for _ in range(100):  # warm up: scratch buffers, caches, allocator
        fast.extract(text, "m")
    before = rss_kb()
    for _ in range(1000):
        d = fast.extract(text, "m")
    grew = rss_kb() - before
    assert d["cyberevent"]["hopper"], "the text has events"
    assert grew < 2048, "RSS grew by %d KB over 1,000 calls" % grew


def test_convert_1000_calls(fast):
    doc = fast.extract(open(SAMPLE, encoding="utf-8").read()[:1500], "m")
    for _ in range(50):
        casie.to_stix(doc), casie.render(doc)
    before = rss_kb()
    for _ in range(1000):
        casie.to_stix(doc), casie.render(doc)
    grew = rss_kb() - before
    assert grew < 2048, "RSS grew by %d KB over 1,000 calls" % grew


def test_models_1000_loads_and_streams():
    m = casie.Model("fast")
    list(m.extract_many(["Hackers breached Acme."] * 20, threads=2))
    before = rss_kb()
    for _ in range(1000):
        list(m.extract_many(["Hackers breached Acme."], threads=1))
    grew = rss_kb() - before
    assert grew < 2048, "RSS grew by %d KB over 1,000 streams" % grew
