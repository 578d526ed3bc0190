"""to_stix of many documents, and every bundle through real consumers:
MISP's importer (misp-stix), stix2.parse and the OASIS validator, on texts
written for this test and on a few dev articles (their bundles made by the
package and by the CLI).  The consumers run in build/stixenv
(python/tests/requirements-stix.txt, pinned and hash-checked), which
scripts/test_python.sh builds.

The validator's warnings that casie accepts, by design (docs/DESIGN.md,
"Consumers"): 103 (ids are UUIDv5 over the content, not random UUIDv4: the
same articles give the same bundle and one object per entity), 302 (an
external reference's URL without a hash of the page: casie has not fetched
it) and 401 (the x_casie_* custom properties rather than a property
extension, which MISP and OpenCTI do not read).  Any other warning fails.
"""
import json
import os
import subprocess

import pytest

import casie
from conftest import CLI, CORPUS, ROOT, run_cli

STIXENV = ROOT / os.environ.get("STIXENV", "build/stixenv")
ACCEPTED_WARNINGS = {"103", "302", "401"}
GROUPS = ROOT / "tests" / "data" / "groups.tsv"

TEXTS = {
    "gang": "Ransomware gang \u201cREvil\u201d encrypted the servers of Kaseya last week and demanded $70 million. "
    "The attackers exploited CVE-2021-30116 in the VSA software.",
    "cat": "The BlackCat ransomware group attacked Reedcorp on Monday. ALPHV operators demanded $5 million in "
    "bitcoin after they encrypted files. They exploited CVE-2021-30116.",
    "storm": "Hackers from the Storm-2603 group breached the network of Meridian Bank and stole customer records. "
    "Microsoft released a patch for CVE-2025-53770.",
}


def consume(tmp_path, bundles):
    """Each bundle (name -> dict) through the consumers; their results."""
    py = STIXENV / "bin" / "python"
    if not py.exists():
        pytest.skip("no %s: scripts/test_python.sh builds it (pip could not fetch the pinned consumers?)" % STIXENV)
    paths = []
    for name, b in bundles.items():
        p = tmp_path / ("%s.json" % name)
        p.write_text(json.dumps(b), encoding="utf-8")
        paths.append(str(p))
    out = tmp_path / "misp"
    out.mkdir()
    r = subprocess.run([str(py), str(ROOT / "python" / "tests" / "stix_consumers.py"), str(out), *paths],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return [json.loads(line) for line in r.stdout.splitlines()]


def assert_consumed(results, bundles):
    assert len(results) == len(bundles)
    for res in results:
        b = bundles[os.path.basename(res["file"])[:-5]]
        reports = sum(o["type"] == "report" for o in b["objects"])
        assert res["stix2"] == "ok", res
        assert res["valid"] and res["errors"] == [], res
        assert set(res["warnings"]) <= ACCEPTED_WARNINGS, res
        assert res["misp_errors"] == [] and res["misp_events"] == reports, res


def check_bundle(b):
    """One object per id, every ref resolves, one vulnerability per CVE id."""
    ids = [o["id"] for o in b["objects"]]
    assert len(ids) == len(set(ids))
    for o in b["objects"]:
        for r in o.get("object_refs", []):
            assert r in ids
    cves = [o["name"] for o in b["objects"] if o["type"] == "vulnerability" and o["name"].startswith("CVE-")]
    assert len(cves) == len(set(cves))


@pytest.fixture(scope="module")
def docs(fast):
    return {k: fast.extract(v, id=k) for k, v in TEXTS.items()}


def test_to_stix_many(docs):
    b = casie.to_stix(list(docs.values()), groups=GROUPS)
    check_bundle(b)
    reports = [o for o in b["objects"] if o["type"] == "report"]
    assert [r["name"] for r in reports] == list(TEXTS)
    vuln = [o for o in b["objects"] if o["type"] == "vulnerability" and o["name"] == "CVE-2021-30116"]
    assert len(vuln) == 1
    assert vuln[0]["id"] in reports[0]["object_refs"] and vuln[0]["id"] in reports[1]["object_refs"]
    assert vuln[0]["id"] not in reports[2]["object_refs"]
    sets = {o["name"]: o for o in b["objects"] if o["type"] == "intrusion-set"}
    assert {"Sodinokibi", "Storm-2603"} <= set(sets)
    assert sets["Sodinokibi"]["id"] in reports[0]["object_refs"]
    assert "REvil" in sets["Sodinokibi"]["aliases"]
    assert sets["Sodinokibi"]["external_references"][0]["external_id"] == "24bd9a4b-2b66-428b-8e1c-6b280b056c00"
    # one document: its bundle alone; a generator is a list
    assert casie.to_stix(docs["gang"], groups=GROUPS) == casie.to_stix(iter([docs["gang"]]), groups=GROUPS)
    # without the catalogue: the attacker as written, no galaxy reference
    plain = casie.to_stix(docs["gang"], groups="none")
    assert not any(o.get("name") == "Sodinokibi" for o in plain["objects"])
    with pytest.raises(casie.CasieError):
        casie.to_stix(docs["gang"], groups=ROOT / "tests" / "data" / "no-such-groups.tsv")


def dev_ids(n):
    ids = (CORPUS / "splits" / "dev.txt").read_text().split()[:n]
    return [i for i in ids if (CORPUS / "source" / ("%s.txt" % i)).exists()]


def test_consumers(tmp_path, docs, fast):
    bundles = {
        "texts": casie.to_stix(list(docs.values()), groups=GROUPS),
        "gang": casie.to_stix(docs["gang"], groups=GROUPS),
    }
    if not (CORPUS / "splits" / "dev.txt").exists():
        pytest.skip("no corpus at %s" % CORPUS)
    ids = dev_ids(6)
    srcs = [CORPUS / "source" / ("%s.txt" % i) for i in ids]
    bundles["dev_python"] = casie.to_stix([fast.extract_file(p) for p in srcs])
    bundles["dev_cli"] = json.loads(run_cli("extract", "-m", "fast", "--format", "stix", *srcs))
    for b in bundles.values():
        check_bundle(b)
    assert sum(o["type"] == "report" for o in bundles["dev_cli"]["objects"]) == len(ids)
    assert_consumed(consume(tmp_path, bundles), bundles)
