"""casie: cybersecurity events (CASIE schema) from news text, over libcasie.

    import casie
    doc = casie.extract("Hackers breached Equifax and stole 143 million records.")
    for hopper in doc["cyberevent"]["hopper"]:
        for event in hopper["events"]:
            print(event["subtype"], event["nugget"]["text"])

casie.extract uses the default model, loaded on first use; casie.Model
loads one explicitly ("fast", "accurate" or a path) and extracts one text
(Model.extract) or a stream on several threads (Model.extract_many).
to_stix, render and events_frame turn documents into a STIX 2.1 bundle, an
HTML page and a pandas DataFrame.  Errors from the library are CasieError,
with its status code.  docs/PYTHON.md in the casie repository is the guide.
"""
from ._native import CasieError, lib as _lib
from .convert import render, to_stix
from .frame import EVENT_COLUMNS, events_frame
from .model import CasieWarning, Model, default_model, extract

__version__ = "0.1.0"
#: the version of the libcasie bundled
libcasie_version = _lib.casie_version().decode()

__all__ = [
    "Model",
    "extract",
    "default_model",
    "to_stix",
    "render",
    "events_frame",
    "EVENT_COLUMNS",
    "CasieError",
    "CasieWarning",
    "libcasie_version",
]
