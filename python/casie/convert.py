"""convert.py - a CASIE document (dict) as STIX 2.1 or as an HTML page.

Both go through libcasie, as the CLI's `--format stix` and `casie render`
do: the dict is written as JSON, read by casie_doc_from_json (which checks
it against the schema and puts drifting spans back on their text) and
turned into a bundle (casie_doc_to_stix) or a page (casie_doc_to_html).

Not here: extraction (model.py).
"""
import ctypes
import json
from collections.abc import Mapping

from . import _input
from ._native import HTML_HEAD, HTML_TAIL, Error, doc_out, lib

__all__ = ["to_stix", "render"]


def _with_doc(doc, what, fn):
    """fn(casie_doc pointer, err) on doc (a dict or JSON text), freed after."""
    data = _input.doc_json(doc, what)
    err = Error()
    d = lib.casie_doc_from_json(data, len(data), what.encode(), ctypes.byref(err))
    if not d:
        raise err.exception()
    try:
        return fn(d, err)
    finally:
        lib.casie_doc_free(d)


def to_stix(doc):
    """The STIX 2.1 bundle of a CASIE document (a dict as Model.extract
    returns, or its JSON text) as a dict: a report for the article referring
    to threat actors, identities, malware, tools, vulnerabilities, ...; ids
    are UUIDv5 over the content, so the same document gives the same bundle.
    Raises TypeError / ValueError for what is not a document, CasieError
    (CASIE_ERR_PARSE, CASIE_ERR_SCHEMA) for JSON that is not a CASIE one."""
    return json.loads(_with_doc(doc, "doc", lambda d, err: doc_out(lib.casie_doc_to_stix, d, 1, err)))


def render(docs):
    """One self-contained HTML page (inline CSS and script, no network) of a
    CASIE document, or of a list of them: each article with its triggers and
    arguments highlighted, a legend, the events by hopper; what `casie
    render` writes.  Returns the page as str."""
    if isinstance(docs, (Mapping, str, bytes, bytearray, memoryview)):
        docs = [docs]
    elif not isinstance(docs, (list, tuple)):
        docs = list(docs)
    parts = [doc_out(lib.casie_doc_to_html, None, HTML_HEAD, Error())]
    for i, doc in enumerate(docs):
        what = "doc" if len(docs) == 1 else "docs[%d]" % i
        parts.append(_with_doc(doc, what, lambda d, err: doc_out(lib.casie_doc_to_html, d, 0, err)))
    parts.append(doc_out(lib.casie_doc_to_html, None, HTML_TAIL, Error()))
    return "".join(parts)
