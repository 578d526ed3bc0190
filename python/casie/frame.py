"""frame.py - CASIE documents as a pandas DataFrame, one row per argument.

A table for analysis: each argument of each event is a row carrying its
event's fields; an event without arguments is one row with empty argument
columns.  pandas is optional: imported only here, when asked for.

Not here: extraction (model.py).
"""
from collections.abc import Mapping

__all__ = ["events_frame", "EVENT_COLUMNS"]

EVENT_COLUMNS = [
    "doc_id",          # the document's id ("id", else sourcefile without .txt)
    "title",           # the document's title (info.title), or None
    "date",            # its date as the document gives it (info.date), or None
    "hopper",          # the hopper (coreferent events), numbered from 1 as the text listing and HTML do
    "event",           # the event's index ("E1")
    "type",            # Attack, Vulnerability-related
    "subtype",         # Databreach, Phishing, Ransom, DiscoverVulnerability, PatchVulnerability
    "realis",          # Actual, Generic, Other
    "trigger",         # the trigger's text
    "trigger_start",   # code-point offsets into the text, end exclusive
    "trigger_end",
    "trigger_score",   # confidence in [0, 1], or None
    "role",            # the argument's role (Attacker, Victim, ...), or None
    "entity_type",     # its entity type (Organization, Person, ...)
    "argument",        # its text
    "name",            # the name it stands for ("the gang" -> "REvil"), or None
    "category",        # Purpose category or CAPEC mechanism of the role, or None
    "arg_start",
    "arg_end",
    "arg_score",
]

#: the offset columns: pandas' nullable integers, so that an event without
#: arguments leaves them <NA> without making every offset a float
INT_COLUMNS = ["hopper", "trigger_start", "trigger_end", "arg_start", "arg_end"]


def _doc_id(doc, i):
    if isinstance(doc.get("id"), str):
        return doc["id"]
    sf = doc.get("sourcefile")
    if isinstance(sf, str):
        return sf[:-4] if sf.endswith(".txt") else sf
    return doc.get("id", str(i))


def _rows(docs):
    for i, doc in enumerate(docs):
        if not isinstance(doc, Mapping):
            raise TypeError("events_frame: docs[%d] must be a dict (a CASIE document), not %s" % (i, type(doc).__name__))
        did = _doc_id(doc, i)
        info = doc.get("info") if isinstance(doc.get("info"), Mapping) else {}
        hoppers = (doc.get("cyberevent") or {}).get("hopper") or []
        for h, hop in enumerate(hoppers):
            for ev in hop.get("events") or []:
                nug = ev.get("nugget") or {}
                base = [did, info.get("title"), info.get("date"), h + 1, ev.get("index"), ev.get("type"),
                        ev.get("subtype"), ev.get("realis"), nug.get("text"), nug.get("startOffset"),
                        nug.get("endOffset"), nug.get("score", ev.get("score"))]
                args = ev.get("argument") or []
                if not args:
                    yield base + [None] * 8
                for a in args:
                    role = a.get("role") or {}
                    yield base + [role.get("type"), a.get("type"), a.get("text"), a.get("name"), _category(role),
                                  a.get("startOffset"), a.get("endOffset"), a.get("score")]


def _category(role):
    """A role's category: the CAPEC mechanism of an Attack-Pattern
    ("CAPEC-Meta"), or a Purpose's category, whichever key the role holds."""
    for k, v in role.items():
        if k not in ("type", "confidence") and isinstance(v, str):
            return v
    return None


def events_frame(docs):
    """A pandas DataFrame of CASIE documents (dicts as Model.extract
    returns; one dict or an iterable of them): one row per argument of each
    event, with its event's fields; an event without arguments is one row
    with None in the argument columns.  Columns: EVENT_COLUMNS; hopper and
    the offsets are nullable integers (pandas "Int64").
    Raises ImportError when pandas is not installed."""
    try:
        import pandas
    except ImportError:
        raise ImportError("casie.events_frame needs pandas: pip install pandas") from None
    if isinstance(docs, Mapping):
        docs = [docs]
    frame = pandas.DataFrame(list(_rows(docs)), columns=EVENT_COLUMNS)
    return frame.astype({c: "Int64" for c in INT_COLUMNS})
