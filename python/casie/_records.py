"""_records.py - one JSONL record in, the line `casie extract --jsonl` writes out.

The CLI reads each line of a JSONL input as a record ({"id": ..., "text":
...}, or "content" and "sourcefile"; anything else in it ignored), extracts
its events and writes the document as compact CASIE JSON with scores, one
line; a record it cannot read becomes {"id": "FILE:LINE", "error": ...}.
extract_record does the same with the same library calls
(casie_doc_from_json_opts with CASIE_READ_TEXT_ONLY, casie_extract,
casie_doc_to_json with CASIE_JSON_SCORES | CASIE_JSON_COMPACT), so its line
is byte for byte the CLI's.  It never raises for a bad record: the error is
returned, so that one bad record in millions fails nothing (the Spark job in
_spark.py relies on that).

Not here: the Python API over dicts (model.py), Spark (_spark.py).
"""
import ctypes
import json

from ._native import JSON_COMPACT, JSON_SCORES, READ_TEXT_ONLY, Error, lib, take_string

__all__ = ["extract_record", "record_id"]


def record_id(record):
    """The id of a JSONL record (str or bytes) as the CLI names its document:
    "id" (a string, or an integer written in decimal), else "sourcefile"
    without ".txt"; None when the record has neither or is not JSON."""
    try:
        r = json.loads(record)
    except (ValueError, TypeError):
        return None
    if not isinstance(r, dict):
        return None
    v = r.get("id")
    if isinstance(v, bool):
        return None
    if isinstance(v, (str, int)):
        return str(v)
    sf = r.get("sourcefile")
    if isinstance(sf, str):
        return sf[:-4] if sf.endswith(".txt") else sf
    return None


def extract_record(model, record, where, params=None):
    """Extracts one JSONL record with a casie.Model.

    record: the record's JSON text (str or UTF-8 bytes).  where: the name
    the CLI would give its place ("FILE:LINE"), which libcasie's messages
    name.  params: a casie_extract_params (Model._params(...)), or None for
    the defaults.

    Returns (document, error): the document's line as `casie extract --jsonl`
    writes it, without its newline (str), and None; or None and the message
    (str) the CLI prints for a record it cannot read or extract.  Raises only
    ValueError for a closed model.  Thread-safe."""
    data = record.encode("utf-8", "surrogatepass") if isinstance(record, str) else bytes(record)
    cwhere = where.encode("utf-8", "replace").replace(b"\0", b"?")
    if params is None:
        params = model._params(None, None)
    err = Error()
    h = model._acquire()
    try:
        doc = lib.casie_doc_from_json_opts(data, len(data), cwhere, READ_TEXT_ONLY, ctypes.byref(err))
        if not doc:
            return None, _message(err)
        try:
            if lib.casie_extract(h, doc, ctypes.byref(params), ctypes.byref(err)) < 0:
                return None, _message(err)
            n = ctypes.c_size_t(0)
            ptr = lib.casie_doc_to_json(doc, JSON_SCORES | JSON_COMPACT, ctypes.byref(n), ctypes.byref(err))
            if not ptr:
                return None, "%s: %s" % (where, _message(err))
            return take_string(ptr, n.value).decode("utf-8", "replace"), None
        finally:
            lib.casie_doc_free(doc)
    finally:
        model._release()


def _message(err):
    return err.message.decode("utf-8", "replace") or "failed"
