"""model.py - casie.Model: a loaded model, extraction of one text or a stream.

A Model wraps one casie_model, which libcasie never changes after loading:
any number of threads may extract with one Model at once, and the GIL is
released while they do (ctypes releases it around each call), so threads
run in parallel.  extract_many keeps a bounded window of documents in
flight and yields results in input order, so a stream of any length runs
in bounded memory.

Models are found as the CLI finds them (casie_model_open): a name, "fast"
or "accurate", is looked for in the models bundled with this package, then
$CASIE_MODEL_DIR, the data folder libcasie was built for, and ./models;
anything else is a path.  With no name, $CASIE_MODEL, else the default: the
accurate model when its encoder is installed, else the fast one with a
warning saying why.

Not here: checking arguments (_input.py), STIX, HTML and tables
(convert.py, frame.py).
"""
import collections
import concurrent.futures
import ctypes
import json
import os
import threading
import warnings
from collections.abc import Mapping

from . import _input
from ._native import DATA_DIR, JSON_COMPACT, JSON_SCORES, CasieError, Error, doc_out, lib, take_string

__all__ = ["Model", "CasieWarning", "extract", "default_model"]


class CasieWarning(UserWarning):
    """A note from libcasie, such as why the default model is the fast one."""


class Model:
    """A casie model, loaded once and shared by any number of threads.

    Model(path_or_name=None): "fast", "accurate", "default" or a path to a
    .model file (str or os.PathLike).  None reads $CASIE_MODEL, else takes
    the default model: the accurate one when its encoder is installed, else
    the fast one (a CasieWarning says why).  Raises CasieError when no such
    model loads (code CASIE_ERR_IO, _MODEL_MAGIC, _MODEL_CORRUPT, _ENCODER...).

    Attributes:
        name: what was asked for ("fast", "accurate", "default" or the path).
        note: why the default is the fast model, or "".

    A Model can be closed (close(), or a with block); extractions in flight
    finish first.  Closing is optional: the model is freed with the object.
    """

    def __init__(self, path_or_name=None):
        self._handle = None
        if path_or_name is None:
            path_or_name = os.environ.get("CASIE_MODEL") or "default"
        name = path_or_name if isinstance(path_or_name, str) else os.fspath(path_or_name)
        cname = _input.path_bytes(name, "model")
        dirs = (ctypes.c_char_p * 2)(_input.path_bytes(DATA_DIR), None)
        err = Error()
        handle = lib.casie_model_open(cname, dirs, ctypes.byref(err))
        if not handle:
            raise err.exception("cannot load model %r" % (name,))
        self._handle = handle
        self._lock = threading.Lock()
        self._busy = 0  # extractions in flight
        self._closed = False
        self.name = name if isinstance(name, str) else os.fsdecode(name)
        self.note = err.message.decode("utf-8", "replace")
        if self.note:
            warnings.warn(CasieWarning("casie: " + self.note), stacklevel=2)

    # --- lifetime ------------------------------------------------------------

    def _acquire(self):
        with self._lock:
            if self._closed:
                raise ValueError("casie: the model is closed")
            self._busy += 1
            return self._handle

    def _release(self):
        with self._lock:
            self._busy -= 1
            last = self._closed and self._busy == 0
        if last:
            self._free()

    def _free(self):
        h, self._handle = self._handle, None
        if h:
            lib.casie_model_free(h)

    def close(self):
        """Frees the model (after the extractions in flight); idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = self._busy == 0
        if idle:
            self._free()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        h = getattr(self, "_handle", None)
        if h and lib is not None:
            self._handle = None
            lib.casie_model_free(h)

    def __repr__(self):
        return "casie.Model(%r%s)" % (self.name, ", closed" if getattr(self, "_closed", True) else "")

    @property
    def metadata(self):
        """The model's metadata (training parameters, corpus, version) as a dict."""
        h = self._acquire()
        try:
            p = lib.casie_model_metadata(h)
            if not p:
                raise MemoryError("casie: model metadata")
            return json.loads(take_string(p, len(ctypes.string_at(p))))
        finally:
            self._release()

    # --- extraction ----------------------------------------------------------

    @staticmethod
    def _params(trigger_threshold, arg_threshold):
        p = lib.casie_extract_default_params()
        t = _input.threshold(trigger_threshold, "trigger_threshold")
        a = _input.threshold(arg_threshold, "arg_threshold")
        if t is not None:
            p.trigger_threshold = t
        if a is not None:
            p.argument_threshold = a
        return p

    def _run(self, h, doc, params, err):
        """Extracts with model handle h into doc (a casie_doc pointer, freed
        here) and returns its CASIE JSON as a dict."""
        try:
            if lib.casie_extract(h, doc, ctypes.byref(params), ctypes.byref(err)) < 0:
                raise err.exception()
            return json.loads(doc_out(lib.casie_doc_to_json, doc, JSON_SCORES | JSON_COMPACT, err))
        finally:
            lib.casie_doc_free(doc)

    def _extract_text(self, h, data, cid, params):
        err = Error()
        doc = lib.casie_doc_from_text(data, len(data), cid, ctypes.byref(err))
        if not doc:
            raise err.exception()
        return self._run(h, doc, params, err)

    def extract(self, text, id=None, *, trigger_threshold=None, arg_threshold=None):
        """Extracts the events of one text.

        text: str (or UTF-8 bytes).  id: the document's name (str), written as
        its "sourcefile" ("<id>.txt"), or None.  trigger_threshold,
        arg_threshold: keep only triggers / arguments scoring at least this
        (0..1; None: 0, keep all), as the CLI's --trigger-threshold and
        --arg-threshold.

        Returns the CASIE JSON document as a dict, with scores: "content",
        "sourcefile", "info", "cyberevent": {"hopper": [{"events": [...]}]};
        every offset a code-point offset into the text (a Python str index).

        Raises TypeError for a text that is not str or bytes, ValueError for
        text that is not valid Unicode (lone surrogates, bytes that are not
        UTF-8) or a threshold out of range, CasieError when libcasie fails
        (CASIE_ERR_LIMIT for a text over 256 MiB).  Thread-safe.
        """
        data = _input.text_bytes(text)
        cid = _input.c_string(id, "id")
        params = self._params(trigger_threshold, arg_threshold)
        h = self._acquire()
        try:
            return self._extract_text(h, data, cid, params)
        finally:
            self._release()

    def extract_file(self, path, *, trigger_threshold=None, arg_threshold=None):
        """Extracts the events of a file, read as casie_doc_load reads it: a
        .json file (or one starting with "{") as a CASIE document or record (its text in "content" or
        "text"; any annotations are replaced), a CASIE source file (<title>,
        <text> sections) as its text, anything else as plain text; the id is
        the file's name without extension.  Returns a dict as extract does;
        CasieError (CASIE_ERR_IO, _PARSE, ...) naming the file when it cannot
        be read."""
        cpath = _input.path_bytes(path)
        params = self._params(trigger_threshold, arg_threshold)
        h = self._acquire()
        try:
            return self._extract_path(h, cpath, params)
        finally:
            self._release()

    def _extract_path(self, h, cpath, params):
        err = Error()
        doc = lib.casie_doc_load(cpath, ctypes.byref(err))
        if not doc:
            raise err.exception()
        return self._run(h, doc, params, err)

    def _extract_item(self, h, item, params):
        """One item of extract_many (model handle h held by the stream)."""
        if isinstance(item, (str, bytes, bytearray, memoryview)):
            return self._extract_text(h, _input.text_bytes(item), None, params)
        if isinstance(item, os.PathLike):
            return self._extract_path(h, _input.path_bytes(item), params)
        if isinstance(item, tuple) and len(item) == 2:
            cid = _input.c_string(item[0], "id")
            return self._extract_text(h, _input.text_bytes(item[1]), cid, params)
        if isinstance(item, Mapping):
            text = item.get("text", item.get("content"))
            if text is None:
                raise ValueError('casie: a record needs its text in "text" or "content"')
            cid = item.get("id")
            if cid is None and isinstance(item.get("sourcefile"), str):
                cid = item["sourcefile"][:-4] if item["sourcefile"].endswith(".txt") else item["sourcefile"]
            return self._extract_text(h, _input.text_bytes(text), _input.c_string(cid, "id"), params)
        raise TypeError(
            "extract_many: an item must be a text (str), an (id, text) pair, a record "
            "{'id': ..., 'text': ...} or a file path (os.PathLike), not %s" % type(item).__name__
        )

    def extract_many(self, items, threads=None, *, trigger_threshold=None, arg_threshold=None):
        """Extracts the events of many documents with `threads` threads,
        yielding one dict per item in input order as results come.

        items: any iterable (read lazily; at most 2 x threads documents are in
        flight) of texts (str), (id, text) pairs, records {"id": ..., "text":
        ...} (or "content", "sourcefile", as the CLI's JSONL), or file paths
        (pathlib.Path, read as extract_file reads them).  threads: worker
        threads (None: the number of processors, at most 8, as the CLI).

        An item that fails raises its exception (TypeError, ValueError,
        CasieError) when its turn comes; the items before it have been
        yielded.  Closing the iterator early cancels what has not started.
        """
        if threads is None:
            threads = min(os.cpu_count() or 1, 8)
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError("threads must be an int, not %s" % type(threads).__name__)
        if not 1 <= threads <= 256:
            raise ValueError("threads must be from 1 to 256, not %d" % threads)
        params = self._params(trigger_threshold, arg_threshold)
        if self._closed:
            raise ValueError("casie: the model is closed")
        return self._stream(iter(items), threads, params)

    def _stream(self, it, threads, params):
        h = self._acquire()  # the model stays open while the iterator runs
        try:
            if threads == 1:
                for item in it:
                    yield self._extract_item(h, item, params)
                return
            window = collections.deque()
            with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="casie") as pool:
                try:
                    for item in it:
                        window.append(pool.submit(self._extract_item, h, item, params))
                        if len(window) >= 2 * threads:
                            yield window.popleft().result()
                    while window:
                        yield window.popleft().result()
                finally:
                    for f in window:
                        f.cancel()
        finally:
            self._release()


_default = None
_default_lock = threading.Lock()


def default_model():
    """The model casie.extract uses: Model() (loaded on first use, then kept)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Model()
        return _default


def extract(text, id=None, *, trigger_threshold=None, arg_threshold=None):
    """Model.extract with the default model (default_model()), loaded on the
    first call and kept: casie.extract("Attackers breached Equifax.")."""
    return default_model().extract(text, id, trigger_threshold=trigger_threshold, arg_threshold=arg_threshold)
