"""convert.py - a CASIE document (dict) as STIX 2.1 or as an HTML page.

Both go through libcasie, as the CLI's `--format stix` and `casie render`
do: the dict is written as JSON, read by casie_doc_from_json (which checks
it against the schema and puts drifting spans back on their text) and
turned into a bundle (casie_stix_add: one of many documents, attackers
looked up in the threat-group catalogue) or a page (casie_doc_to_html).

Not here: extraction (model.py).
"""
import ctypes
import json
import os
import threading
from collections.abc import Mapping

from . import _input
from ._native import DATA_DIR, HTML_HEAD, HTML_TAIL, Error, doc_out, lib, take_string

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


_stix_protos = []
_groups = {}  # catalogue path (or "") -> its casie_groups pointer, loaded once
_groups_lock = threading.Lock()


def _stix_lib():
    """lib with the prototypes of casie_stix_* and casie_groups_* (set once)."""
    if not _stix_protos:
        P, I, Z = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
        E = ctypes.POINTER(Error)
        for name, res, args in (
            ("casie_groups_load", P, [Z, E]),
            ("casie_groups_open", P, [ctypes.POINTER(Z), E]),
            ("casie_groups_free", None, [P]),
            ("casie_stix_new", P, [P, E]),
            ("casie_stix_add", I, [P, P, E]),
            ("casie_stix_write", P, [P, I, ctypes.POINTER(ctypes.c_size_t), E]),
            ("casie_stix_free", None, [P]),
        ):
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args
        _stix_protos.append(True)
    return lib


def _catalogue(groups):
    """The casie_groups pointer for to_stix's groups argument (None: none)."""
    if groups is False or groups == "none":
        return None
    key = "" if groups is None else os.fspath(groups)
    with _groups_lock:
        if key not in _groups:
            err = Error()
            if key:
                g = _stix_lib().casie_groups_load(key.encode(), ctypes.byref(err))
                if not g:
                    raise err.exception()
            else:  # the bundled one, else where casie finds models; none is fine
                dirs = [DATA_DIR] + [d for d in [os.environ.get("CASIE_MODEL_DIR")] if d]
                arr = (ctypes.c_char_p * (len(dirs) + 1))(*[d.encode() for d in dirs], None)
                g = _stix_lib().casie_groups_open(arr, ctypes.byref(err)) or None
            _groups[key] = g
        return _groups[key]


def to_stix(docs, groups=None):
    """The STIX 2.1 bundle of a CASIE document (a dict as Model.extract
    returns, or its JSON text), or ONE bundle of a list (or other iterable)
    of them, as a dict: a report per document referring to its own threat
    actors, identities, malware, tools, vulnerabilities, ...; what the
    documents share is one object (a vulnerability per CVE id, an
    intrusion-set per threat group of the catalogue).  Ids are UUIDv5 over
    the content, so the same documents give the same bundle.  groups: the
    path of a group catalogue (casie-groups.tsv); None (the default): the
    one installed with the package or where casie finds its models, when
    there; False or "none": without.  Raises TypeError / ValueError for what
    is not a document, CasieError (CASIE_ERR_PARSE, CASIE_ERR_SCHEMA) for
    JSON that is not a CASIE one, (CASIE_ERR_IO, CASIE_ERR_PARSE) for a
    catalogue named that cannot be read."""
    one = isinstance(docs, (Mapping, str, bytes, bytearray, memoryview))
    if not one:
        try:
            docs = list(docs)
        except TypeError:
            raise TypeError(
                "to_stix: docs must be a dict (a CASIE document), its JSON text, or a list of them, not %s"
                % type(docs).__name__
            ) from None
    else:
        docs = [docs]
    cat = _catalogue(groups)
    L = _stix_lib()
    err = Error()
    s = L.casie_stix_new(cat, ctypes.byref(err))
    if not s:
        raise err.exception()
    try:
        for i, doc in enumerate(docs):
            what = "doc" if one else "docs[%d]" % i

            def add(d, e):
                if L.casie_stix_add(s, d, ctypes.byref(e)):
                    raise e.exception()

            _with_doc(doc, what, add)
        n = ctypes.c_size_t(0)
        ptr = L.casie_stix_write(s, 1, ctypes.byref(n), ctypes.byref(err))
        if not ptr:
            raise err.exception()
        return json.loads(take_string(ptr, n.value).decode("utf-8"))
    finally:
        L.casie_stix_free(s)


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
