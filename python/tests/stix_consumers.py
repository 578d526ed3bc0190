"""stix_consumers.py - runs STIX bundles through real consumers, in the venv
of python/tests/requirements-stix.txt (build/stixenv): stix2.parse (stix2
3.0.2), the OASIS validator (stix2-validator, STIX 2.1) and MISP's importer
(misp-stix: stix_2_to_misp, one MISP event per report).  Prints one JSON
line per bundle: its objects, the validator's errors and warning codes, the
MISP events made and MISP's errors.

usage: python stix_consumers.py OUT_DIR BUNDLE.json...
"""
import json
import re
import sys

import stix2
import stix2validator
from misp_stix_converter import stix_2_to_misp


def check(path, out_dir):
    text = open(path, encoding="utf-8").read()
    res = {"file": path, "objects": len(json.loads(text).get("objects", []))}
    try:
        stix2.parse(text, allow_custom=True)
        res["stix2"] = "ok"
    except Exception as e:  # what the consumer says is the result
        res["stix2"] = "%s: %s" % (type(e).__name__, e)
    v = stix2validator.validate_file(path, stix2validator.ValidationOptions(version="2.1"))
    res["valid"] = v.is_valid
    res["errors"] = [str(e) for o in v.object_results for e in o.errors]
    res["warnings"] = sorted({m.group(1) for o in v.object_results for w in o.warnings
                              for m in [re.search(r"\{(\d+)\}", str(w))] if m})
    r = stix_2_to_misp(path, output_dir=out_dir, overwrite=True, debug=True)
    res["misp_events"] = len(r.get("results", []))
    res["misp_errors"] = [str(e) for e in r.get("errors", [])]
    return res


if __name__ == "__main__":
    for p in sys.argv[2:]:
        print(json.dumps(check(p, sys.argv[1])), flush=True)
