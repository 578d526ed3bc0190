"""model.py - casie.Model: a loaded model, extraction of one text or a stream.

A Model wraps one casie_model, which libcasie never changes after loading:
any number of threads may extract with one Model at once, and the GIL is
released while they do (ctypes releases it around each call), so threads
run in parallel.  extract_many keeps a bounded window of documents in
flight and yields results in input order, so a stream of any length runs
in bounded memory.

Model.memory_estimate(n) bounds the memory one extraction of n bytes takes,
the library's and the conversion to dicts together (measured: "memory"
below); max_memory refuses a text estimated over it before any work.

Models are found as the CLI finds them (casie_model_open_with): a name, "fast"
or "accurate", is looked for in the models bundled with this package, then
$CASIE_MODEL_DIR, the data folder libcasie was built for, and ./models;
anything else is a path.  With no name, $CASIE_MODEL, else the default: the
accurate model when its encoder is installed, else the fast one with a
warning saying why.  $CASIE_ENCODER, when set, names the encoder file the
accurate model reads (libcasie reads no environment; this package does).

Not here: checking arguments (_input.py), STIX, HTML and tables
(convert.py, frame.py).
"""
import collections
import concurrent.futures
import ctypes
import json
import os
import stat
import threading
import warnings
from collections.abc import Mapping

from . import _input
from ._native import (
    DATA_DIR,
    ERR_IO,
    ERR_LIMIT,
    JSON_COMPACT,
    JSON_SCORES,
    CasieError,
    Error,
    arg_names,
    lib,
    take_string,
)

__all__ = ["Model", "CasieWarning", "extract", "default_model"]


class CasieWarning(UserWarning):
    """A note from libcasie, such as why the default model is the fast one."""


# --- memory ------------------------------------------------------------------
#
# Model.memory_estimate(n) bounds the peak memory one extract of n bytes of
# text adds to the process, as the sum of two parts (each bounds its phase's
# peak, so the sum bounds the whole: _run frees the library's document before
# the conversion):
#   - libcasie's, casie_extract_memory(model, n): 128 bytes per byte + 8 MB
#     with the fast model, 3,328 per byte + 32 MB with the accurate one
#     (docs/HARDENING.md, "The service's memory and stop");
#   - the conversion's, below: the text's UTF-8 copy, the JSON copied out of
#     the library (bytes), decoded (a str), json.loads'd to dicts (kept as the
#     result).
# The conversion, measured (peak RSS growth, VmHWM, of a fresh process doing
# just that to the library's JSON of 0.5 MB of text, fast model, or 0.1 MB,
# accurate; python tests/test_max_memory.py makes them, docs/PYTHON.md,
# "Memory", has them all):
#   - per byte of JSON: 6.4-6.9 when the text is ASCII, 9.6-10.1 when it holds
#     one character over U+FFFF (the JSON's str and "content" then take 4
#     bytes a character): CONVERT_PER_JSON_BYTE, 12;
#   - JSON per byte of text: 42.2 on the densest text found ("X stole 5. "
#     repeated: an event and two arguments every 11 bytes, fast model), 19.0
#     on the accurate model's densest ("Acme paid a ransom. " repeated), 11.4
#     and 9.8 on the review's "Hackers stole the personal data of 2 million
#     customers ..." repeated; 3.2 on the 100 dev articles (fast; 7.9 for the
#     densest one);
#   - so per byte of text at most 407 ("X stole 5. " with one emoji, fast):
#     CONVERT_PER_BYTE, 512, is 12 x 42.7.
# A text whose JSON comes out longer than 42.7 bytes a byte (a model denser
# than these) is still held to max_memory: _Limit.check_json compares the
# estimate from the JSON's actual size before it becomes dicts.
CONVERT_PER_JSON_BYTE = 12
CONVERT_PER_BYTE = 512
CONVERT_FIXED = 2 << 20  # Python's allocator takes memory 1 MiB at a time


_SIZE_MAX = ctypes.c_size_t(-1).value


def _with_id_and_names(doc, names):
    """The result dict of an extraction: "id" first (the document's name, its
    "sourcefile" without ".txt", or None), then the CASIE JSON's keys; each
    argument that stands for a name (casie_doc_arg_names: its own text when
    it names someone, else its hopper's or the article's name for its role)
    carries it as "name", as the text listing and the HTML view show it."""
    sf = doc.get("sourcefile")
    out = {"id": (sf[:-4] if sf.endswith(".txt") else sf) if isinstance(sf, str) else None}
    out.update(doc)
    k = 0
    for hop in (out.get("cyberevent") or {}).get("hopper") or []:
        for ev in hop.get("events") or []:
            for a in ev.get("argument") or []:
                if k < len(names) and names[k] is not None:
                    a["name"] = names[k]
                k += 1
    return out


def _estimate(h, n):
    """Model.memory_estimate(n) with model handle h (n past SIZE_MAX is
    SIZE_MAX for the library, which saturates there, not wrapped)."""
    return lib.casie_extract_memory(h, min(n, _SIZE_MAX)) + CONVERT_PER_BYTE * n + CONVERT_FIXED


def _num(n):
    return format(n, ",")


def _mib(n):
    return "%.1f MiB" % (n / 1048576)


class _Limit:
    """One extraction admitted under max_memory: the limit, the text's size,
    the library's estimate and the whole estimate."""

    __slots__ = ("limit", "n", "lib", "estimate")

    def __init__(self, limit, n, lib_estimate, estimate):
        self.limit, self.n, self.lib, self.estimate = limit, n, lib_estimate, estimate

    def check_json(self, json_bytes):
        """CasieError (CASIE_ERR_LIMIT) when the library's estimate and the
        conversion's, from the JSON's size, come over the limit."""
        need = self.lib + CONVERT_PER_JSON_BYTE * json_bytes + CONVERT_FIXED
        if need > self.limit:
            raise CasieError(
                ERR_LIMIT,
                "casie: the events of a text of %s bytes came to %s bytes of JSON, which need an "
                "estimated %s bytes (%s) with the extraction, over max_memory %s bytes (%s)"
                % (_num(self.n), _num(json_bytes), _num(need), _mib(need), _num(self.limit), _mib(self.limit)),
            )


class _Budget:
    """extract_many's max_memory: the estimates of the extractions running at
    once, which together stay within the limit.  An extraction waits until
    its estimate fits beside the running ones (one alone within the limit
    always starts once the others finish, and they never wait on it)."""

    def __init__(self, limit):
        self.limit = limit
        self.used = 0
        self._cond = threading.Condition()

    def take(self, n):
        with self._cond:
            while self.used and self.used + n > self.limit:
                self._cond.wait()
            self.used += n

    def give(self, n):
        with self._cond:
            self.used -= n
            self._cond.notify_all()


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
        # the library reads no environment: $CASIE_MODEL_DIR and
        # $CASIE_ENCODER are read here, as the CLI reads them
        folders = [_input.path_bytes(DATA_DIR)]
        if os.environ.get("CASIE_MODEL_DIR"):
            folders.append(os.fsencode(os.environ["CASIE_MODEL_DIR"]))
        dirs = (ctypes.c_char_p * (len(folders) + 1))(*folders, None)
        params = lib.casie_model_default_load_params()
        params.dirs = dirs
        encoder = os.environ.get("CASIE_ENCODER")
        if encoder:
            params.encoder_path = os.fsencode(encoder)
        err = Error()
        handle = lib.casie_model_open_with(cname, ctypes.byref(params), ctypes.byref(err))
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

    # --- memory --------------------------------------------------------------

    def memory_estimate(self, n_bytes):
        """An upper estimate, in bytes, of the peak memory one extract of a
        text of n_bytes bytes of UTF-8 (len(text.encode())) adds to the
        process: libcasie's (casie_extract_memory: the document, its events,
        the encoder's token vectors, the JSON answer) plus the Python
        conversion's (the JSON copied out, decoded and turned into dicts,
        the result included).  What max_memory compares with.  Measured on
        the worst texts found; docs/PYTHON.md, "Memory", has the figures.
        Thread-safe."""
        n = _input.byte_count(n_bytes)
        h = self._acquire()
        try:
            return _estimate(h, n)
        finally:
            self._release()

    def _admit(self, h, n, limit, what="casie: a text"):
        """The _Limit of an extraction of n bytes under max_memory `limit`
        (None: no limit, returns None); CasieError (CASIE_ERR_LIMIT) when its
        estimate is over the limit, before any work."""
        if limit is None:
            return None
        est = _estimate(h, n)
        if est > limit:
            raise CasieError(
                ERR_LIMIT,
                "%s of %s bytes needs an estimated %s bytes (%s) to extract (Model.memory_estimate), "
                "over max_memory %s bytes (%s)" % (what, _num(n), _num(est), _mib(est), _num(limit), _mib(limit)),
            )
        return _Limit(limit, n, lib.casie_extract_memory(h, min(n, _SIZE_MAX)), est)

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

    def _run(self, h, doc, params, err, lim=None):
        """Extracts with model handle h into doc (a casie_doc pointer, freed
        here) and returns its CASIE JSON as a dict.  The document is freed
        before the JSON becomes dicts, and the JSON's bytes once decoded, so
        that the library's memory and the conversion's do not add up.  lim
        (a _Limit, or None): checks the conversion's estimate, now that the
        JSON's size is known, against max_memory."""
        try:
            if lib.casie_extract(h, doc, ctypes.byref(params), ctypes.byref(err)) < 0:
                raise err.exception()
            n = ctypes.c_size_t(0)
            ptr = lib.casie_doc_to_json(doc, JSON_SCORES | JSON_COMPACT, ctypes.byref(n), ctypes.byref(err))
            if not ptr:
                raise err.exception()
            data = take_string(ptr, n.value)
            names = arg_names(doc, err)
        finally:
            lib.casie_doc_free(doc)
        if lim is not None:
            lim.check_json(len(data))
        text = data.decode("utf-8")
        del data
        return _with_id_and_names(json.loads(text), names)

    def _extract_text(self, h, data, cid, params, lim=None):
        err = Error()
        doc = lib.casie_doc_from_text(data, len(data), cid, ctypes.byref(err))
        if not doc:
            raise err.exception()
        return self._run(h, doc, params, err, lim)

    def extract(self, text, id=None, *, trigger_threshold=None, arg_threshold=None, max_memory=None):
        """Extracts the events of one text.

        text: str (or UTF-8 bytes).  id: the document's name (str), written as
        its "sourcefile" ("<id>.txt"), or None.  trigger_threshold,
        arg_threshold: keep only triggers / arguments scoring at least this
        (0..1; None: 0, keep all), as the CLI's --trigger-threshold and
        --arg-threshold.  max_memory: bytes, or None for no limit: a text
        whose memory_estimate is over it is refused before any work.

        Returns the CASIE JSON document as a dict, with scores: "content",
        "sourcefile", "info", "cyberevent": {"hopper": [{"events": [...]}]};
        every offset a code-point offset into the text (a Python str index).

        Raises TypeError for a text that is not str or bytes, ValueError for
        text that is not valid Unicode (lone surrogates, bytes that are not
        UTF-8) or a threshold out of range, CasieError when libcasie fails
        (CASIE_ERR_LIMIT for a text over 256 MiB, or one estimated over
        max_memory, the message naming the estimate and the limit; the model
        stays usable).  Thread-safe.
        """
        data = _input.text_bytes(text)
        cid = _input.c_string(id, "id")
        params = self._params(trigger_threshold, arg_threshold)
        limit = _input.memory_limit(max_memory)
        h = self._acquire()
        try:
            return self._extract_text(h, data, cid, params, self._admit(h, len(data), limit))
        finally:
            self._release()

    def extract_file(self, path, *, trigger_threshold=None, arg_threshold=None, max_memory=None):
        """Extracts the events of a file, read as casie_doc_load reads it: a
        .json file (or one starting with "{") as a CASIE document or record (its text in "content" or
        "text"; any annotations are replaced), a CASIE source file (<title>,
        <text> sections) as its text, anything else as plain text; the id is
        the file's name without extension.  Returns a dict as extract does;
        CasieError (CASIE_ERR_IO, _PARSE, ...) naming the file when it cannot
        be read.  max_memory: as extract's, the estimate taken for the file's
        size (its text is no longer); with a limit, a path that is not a
        regular file (a pipe, a device) is refused (CASIE_ERR_LIMIT), since
        its size cannot be known before reading it."""
        cpath = _input.path_bytes(path)
        params = self._params(trigger_threshold, arg_threshold)
        limit = _input.memory_limit(max_memory)
        h = self._acquire()
        try:
            return self._extract_path(h, cpath, params, limit)
        finally:
            self._release()

    def _file_limit(self, h, cpath, limit):
        """The _Limit of extracting file cpath (None without a limit), from
        its size now; CasieError when it is over or cannot be told."""
        if limit is None:
            return None
        name = os.fsdecode(cpath)
        try:
            st = os.stat(cpath)
        except OSError as e:
            raise CasieError(ERR_IO, "%s: %s" % (name, e.strerror)) from None
        if not stat.S_ISREG(st.st_mode):
            raise CasieError(
                ERR_LIMIT,
                "%s: not a regular file, so its size, and the memory to extract it, "
                "cannot be known before reading it (max_memory is set)" % name,
            )
        return self._admit(h, st.st_size, limit, "%s: a file" % name)

    def _extract_path(self, h, cpath, params, limit=None, lim=None):
        if lim is None:
            lim = self._file_limit(h, cpath, limit)
        err = Error()
        doc = lib.casie_doc_load(cpath, ctypes.byref(err))
        if not doc:
            raise err.exception()
        return self._run(h, doc, params, err, lim)

    @staticmethod
    def _item_source(item):
        """What an item of extract_many holds: ("text", UTF-8 bytes, id as C
        string) or ("path", path bytes, None)."""
        if isinstance(item, (str, bytes, bytearray, memoryview)):
            return "text", _input.text_bytes(item), None
        if isinstance(item, os.PathLike):
            return "path", _input.path_bytes(item), None
        if isinstance(item, tuple) and len(item) == 2:
            cid = _input.c_string(item[0], "id")
            return "text", _input.text_bytes(item[1]), cid
        if isinstance(item, Mapping):
            text = item.get("text", item.get("content"))
            if text is None:
                raise ValueError('casie: a record needs its text in "text" or "content"')
            cid = item.get("id")
            if cid is None and isinstance(item.get("sourcefile"), str):
                cid = item["sourcefile"][:-4] if item["sourcefile"].endswith(".txt") else item["sourcefile"]
            return "text", _input.text_bytes(text), _input.c_string(cid, "id")
        raise TypeError(
            "extract_many: an item must be a text (str), an (id, text) pair, a record "
            "{'id': ..., 'text': ...} or a file path (os.PathLike), not %s" % type(item).__name__
        )

    def _extract_item(self, h, item, params, budget=None):
        """One item of extract_many (model handle h held by the stream).
        budget (a _Budget, or None): the stream's max_memory, shared by the
        extractions running at once."""
        kind, data, cid = self._item_source(item)
        if budget is None:
            lim = None
        elif kind == "path":
            lim = self._file_limit(h, data, budget.limit)
        else:
            lim = self._admit(h, len(data), budget.limit)
        if lim is not None:
            budget.take(lim.estimate)
        try:
            if kind == "path":
                return self._extract_path(h, data, params, lim=lim)
            return self._extract_text(h, data, cid, params, lim)
        finally:
            if lim is not None:
                budget.give(lim.estimate)

    def extract_many(self, items, threads=None, *, trigger_threshold=None, arg_threshold=None, max_memory=None):
        """Extracts the events of many documents with `threads` threads,
        yielding one dict per item in input order as results come.

        items: any iterable (read lazily; at most 2 x threads documents are in
        flight) of texts (str), (id, text) pairs, records {"id": ..., "text":
        ...} (or "content", "sourcefile", as the CLI's JSONL), or file paths
        (pathlib.Path, read as extract_file reads them).  threads: worker
        threads (None: the number of processors, at most 8, as the CLI).
        max_memory: bytes, or None for no limit: the extractions running at
        once stay within it together (a thread starts one only when its
        memory_estimate fits beside theirs, as `casie serve --max-memory`
        does); an item estimated over it alone raises CasieError
        (CASIE_ERR_LIMIT) in its turn.  The results waiting their turn are
        the caller's, as any result is.

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
        limit = _input.memory_limit(max_memory)
        if self._closed:
            raise ValueError("casie: the model is closed")
        return self._stream(iter(items), threads, params, None if limit is None else _Budget(limit))

    def _stream(self, it, threads, params, budget):
        h = self._acquire()  # the model stays open while the iterator runs
        try:
            if threads == 1:
                for item in it:
                    yield self._extract_item(h, item, params, budget)
                return
            window = collections.deque()
            with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="casie") as pool:
                try:
                    for item in it:
                        window.append(pool.submit(self._extract_item, h, item, params, budget))
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


def extract(text, id=None, *, trigger_threshold=None, arg_threshold=None, max_memory=None):
    """Model.extract with the default model (default_model()), loaded on the
    first call and kept: casie.extract("Attackers breached Equifax.")."""
    return default_model().extract(
        text, id, trigger_threshold=trigger_threshold, arg_threshold=arg_threshold, max_memory=max_memory
    )
