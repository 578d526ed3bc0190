"""_input.py - checks what Python callers pass before it reaches libcasie.

libcasie reads any bytes (an invalid UTF-8 byte reads as U+FFFD), but a
Python caller who passes broken text has a bug to hear about: str with lone
surrogates and bytes that are not UTF-8 are refused with ValueError naming
the offset, anything else with TypeError.  Strings that become C strings
(ids, paths, model names) may not hold NUL.

Not here: the calls themselves (model.py, convert.py).
"""
import json
import numbers
import os
from collections.abc import Mapping


def text_bytes(text, what="text"):
    """text (str, or UTF-8 bytes) as UTF-8 bytes."""
    if isinstance(text, str):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError(
                "%s: character %d (U+%04X) is a lone surrogate, which UTF-8 cannot encode"
                % (what, e.start, ord(text[e.start]))
            ) from None
    if isinstance(text, (bytes, bytearray, memoryview)):
        data = bytes(text)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError("%s: not valid UTF-8 at byte %d (%s)" % (what, e.start, e.reason)) from None
        return data
    raise TypeError("%s must be str or UTF-8 bytes, not %s" % (what, type(text).__name__))


def c_string(s, what, allow_none=True):
    """s (str or None) as bytes for a C string argument."""
    if s is None and allow_none:
        return None
    if not isinstance(s, str):
        raise TypeError("%s must be str%s, not %s" % (what, " or None" if allow_none else "", type(s).__name__))
    if "\0" in s:
        raise ValueError("%s: contains a NUL character at %d" % (what, s.index("\0")))
    return text_bytes(s, what)


def path_bytes(path, what="path"):
    """A path (str, bytes or os.PathLike) as bytes for a C string argument."""
    p = os.fspath(path)
    if isinstance(p, bytes):
        if b"\0" in p:
            raise ValueError("%s: contains a NUL byte" % what)
        return p
    return c_string(p, what, allow_none=False)


def doc_json(doc, what="doc"):
    """A CASIE document (a dict as Model.extract returns, or its JSON text)
    as UTF-8 JSON bytes."""
    if isinstance(doc, Mapping):
        try:
            text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ValueError("%s: cannot be written as JSON: %s" % (what, e)) from None
        return text_bytes(text, what)
    if isinstance(doc, (str, bytes, bytearray, memoryview)):
        return text_bytes(doc, what)
    raise TypeError("%s must be a dict (a CASIE document) or its JSON text, not %s" % (what, type(doc).__name__))


def byte_count(x, what="n_bytes"):
    """A size in bytes: an int from 0."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError("%s must be an int (a number of bytes), not %s" % (what, type(x).__name__))
    if x < 0:
        raise ValueError("%s must be 0 or more, not %d" % (what, x))
    return int(x)


def memory_limit(x, what="max_memory"):
    """A memory limit in bytes: None (no limit) or a finite number from 0,
    as an int."""
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError("%s must be a number of bytes or None, not %s" % (what, type(x).__name__))
    if not 0 <= x < float("inf"):  # NaN fails too
        raise ValueError("%s must be a number of bytes from 0, not %r" % (what, x))
    return int(x)


def threshold(x, what):
    """A score threshold: None (the library's default, 0) or a number in [0, 1]."""
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError("%s must be a number from 0 to 1, not %s" % (what, type(x).__name__))
    if not 0.0 <= float(x) <= 1.0:  # NaN fails too
        raise ValueError("%s must be from 0 to 1, not %r" % (what, x))
    return float(x)
