"""_native.py - libcasie through ctypes: the library, its prototypes, its errors.

Why ctypes rather than a C extension: libcasie's API is plain C with opaque
handles and JSON text in and out, so nothing needs Python's C API, and no
Python headers are needed to install.  ctypes releases the GIL around every
foreign call, so threads sharing one model extract in parallel (casie_extract
is thread-safe for distinct documents); a call costs microseconds against the
milliseconds an extraction takes.

Every function here mirrors one of include/casie.h; docs/API.md has their
contracts (who frees what, which calls are thread-safe).

Not here: the Python API (model.py, convert.py, frame.py).
"""
import ctypes
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
LIB_PATH = os.path.join(_HERE, "_lib", "libcasie.so")
DATA_DIR = os.path.join(_HERE, "data")  # the bundled models (setup.py)

# casie_status
OK = 0
ERR_IO = -2
ERR_LIMIT = -5
STATUS_NAMES = {
    0: "CASIE_OK",
    -1: "CASIE_ERR_NOMEM",
    -2: "CASIE_ERR_IO",
    -3: "CASIE_ERR_PARSE",
    -4: "CASIE_ERR_SCHEMA",
    -5: "CASIE_ERR_LIMIT",
    -6: "CASIE_ERR_MODEL_MAGIC",
    -7: "CASIE_ERR_MODEL_VERSION",
    -8: "CASIE_ERR_MODEL_CORRUPT",
    -9: "CASIE_ERR_INVALID_ARG",
    -10: "CASIE_ERR_EMPTY",
    -11: "CASIE_ERR_ENCODER",
}
JSON_COMPACT = 1
READ_TEXT_ONLY = 1  # casie_doc_from_json_opts: a record's text, its annotations ignored
JSON_SCORES = 2
HTML_HEAD = 1
HTML_TAIL = 2


class CasieError(Exception):
    """An error reported by libcasie.

    Attributes:
        code: the casie_status (a negative int, e.g. -2 for CASIE_ERR_IO).
        status: its name ("CASIE_ERR_IO").
        message: libcasie's message, naming the file, record or offset.
        position: the byte offset in the input it applies to, or -1.
    """

    def __init__(self, code, message, position=-1):
        self.code = code
        self.status = STATUS_NAMES.get(code, "CASIE_ERR_%d" % code)
        self.message = message
        self.position = position
        super().__init__("%s (%s)" % (message, self.status))


class Error(ctypes.Structure):
    """casie_error"""

    _fields_ = [("code", ctypes.c_int), ("position", ctypes.c_long), ("message", ctypes.c_char * 256)]

    def exception(self, fallback="failed"):
        msg = self.message.decode("utf-8", "replace") or fallback
        return CasieError(self.code or -9, msg, self.position)


class ExtractParams(ctypes.Structure):
    """casie_extract_params"""

    _fields_ = [
        ("trigger_threshold", ctypes.c_float),
        ("argument_threshold", ctypes.c_float),
        ("given_triggers", ctypes.c_int),
        ("threads", ctypes.c_int),
    ]


class ModelLoadParams(ctypes.Structure):
    """casie_model_load_params"""

    _fields_ = [
        ("dirs", ctypes.POINTER(ctypes.c_char_p)),
        ("encoder_path", ctypes.c_char_p),
    ]


def _load():
    if not os.path.isfile(LIB_PATH):
        raise ImportError(
            "casie: %s is missing; install the package with pip install ./python "
            "from a casie checkout (it builds libcasie)" % LIB_PATH
        )
    lib = ctypes.CDLL(LIB_PATH)  # CDLL: the GIL is released during each call
    P, S, I, Z = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p
    E = ctypes.POINTER(Error)
    SP = ctypes.POINTER(ctypes.c_size_t)
    protos = {
        "casie_version": (Z, []),
        "casie_status_string": (Z, [I]),
        "casie_free": (None, [P]),
        "casie_doc_from_text": (P, [Z, S, Z, E]),
        "casie_doc_from_json": (P, [Z, S, Z, E]),
        "casie_doc_from_json_opts": (P, [Z, S, Z, I, E]),
        "casie_doc_load": (P, [Z, E]),
        "casie_doc_to_json": (P, [P, I, SP, E]),
        "casie_doc_to_stix": (P, [P, I, SP, E]),
        "casie_doc_to_html": (P, [P, I, SP, E]),
        "casie_doc_free": (None, [P]),
        "casie_doc_arg_names": (ctypes.POINTER(Z), [P, ctypes.POINTER(I), E]),
        "casie_model_default_load_params": (ModelLoadParams, []),
        "casie_model_open_with": (P, [Z, ctypes.POINTER(ModelLoadParams), E]),
        "casie_model_free": (None, [P]),
        "casie_model_metadata": (P, [P]),
        "casie_extract_default_params": (ExtractParams, []),
        "casie_extract": (I, [P, P, ctypes.POINTER(ExtractParams), E]),
        "casie_extract_memory": (S, [P, S]),
    }
    for name, (res, args) in protos.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


lib = _load()


def take_string(ptr, n):
    """The bytes of a string libcasie returned (n bytes), freed here."""
    try:
        return ctypes.string_at(ptr, n)
    finally:
        lib.casie_free(ptr)


def arg_names(doc, err):
    """casie_doc_arg_names: for each argument of doc (hoppers, events,
    arguments in order), the name it stands for (str) or None."""
    n = ctypes.c_int(0)
    arr = lib.casie_doc_arg_names(doc, ctypes.byref(n), ctypes.byref(err))
    if not arr:
        raise err.exception()
    seen = {}  # one str per distinct name
    try:
        out = []
        for i in range(n.value):
            b = arr[i]
            out.append(None if b is None else seen.setdefault(b, b.decode("utf-8")))
        return out
    finally:
        lib.casie_free(ctypes.cast(arr, ctypes.c_void_p))


def doc_out(fn, doc, flags, err):
    """Runs fn(doc, flags, &len, &err) (casie_doc_to_json, _stix, _html) and
    returns its text as str; CasieError when it fails."""
    n = ctypes.c_size_t(0)
    ptr = fn(doc, flags, ctypes.byref(n), ctypes.byref(err))
    if not ptr:
        raise err.exception()
    return take_string(ptr, n.value).decode("utf-8")
