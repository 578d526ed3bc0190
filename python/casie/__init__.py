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
HTML page and a pandas DataFrame; spark_extract runs a model over a Spark
DataFrame of articles (pyspark is imported only then).  Errors from the library are CasieError,
with its status code.  docs/PYTHON.md in the casie repository is the guide.
"""
from ._native import CasieError, lib as _lib
from .convert import render, to_stix
from .frame import EVENT_COLUMNS, events_frame
from .model import CasieWarning, Model, default_model, extract
from ._records import extract_record
from ._spark import DOC_COLUMNS, spark_events, spark_extract, spark_jsonl, spark_read_articles

#: the version of the libcasie bundled
libcasie_version = _lib.casie_version().decode()
#: the package's version: the library's, defined once (CASIE_VERSION_STRING in
#: include/casie.h, which setup.py also reads for the wheel's metadata)
__version__ = libcasie_version

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
    "extract_record",
    "spark_read_articles",
    "spark_extract",
    "spark_jsonl",
    "spark_events",
    "DOC_COLUMNS",
]
