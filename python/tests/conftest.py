"""Shared fixtures: the checkout's CLI (build/casie) to compare with, the
sample article, and a loaded fast model.

The suite tests the installed package (scripts/test_python.sh installs it
into build/pyenv first), never the source folder.
"""
import json
import os
import pathlib
import subprocess

import pytest

import casie

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-article.txt"
CORPUS = pathlib.Path(os.environ.get("CASIE_CORPUS", ROOT.parent / "shared" / "casie"))
CLI = ROOT / os.environ.get("BUILD", "build") / "casie"
DATA = pathlib.Path(casie.__file__).parent / "data"

assert "site-packages" in casie.__file__, "the suite tests the installed package, not %s" % casie.__file__


def run_cli(*args, stdin=None):
    """build/casie ARGS; its stdout (str).  Fails the test on a non-zero exit."""
    r = subprocess.run([str(CLI), *map(str, args)], input=stdin, capture_output=True, check=False)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode("utf-8")


def cli_json(*args, stdin=None):
    return json.loads(run_cli(*args, stdin=stdin))


def as_cli(doc):
    """A result of Model.extract as the CLI's JSON has it: without the "id"
    and the arguments' "name" that the package adds (test_convert checks those)."""
    doc = json.loads(json.dumps(doc))
    doc.pop("id", None)
    for hop in (doc.get("cyberevent") or {}).get("hopper") or []:
        for ev in hop.get("events") or []:
            for a in ev.get("argument") or []:
                a.pop("name", None)
    return doc


@pytest.fixture(scope="session")
def fast():
    with casie.Model("fast") as m:
        yield m


@pytest.fixture(scope="session")
def sample_text():
    """The sample article's text, as the CLI reads the source file."""
    return cli_json("extract", "-m", "fast", SAMPLE)["content"]


def has_encoder():
    return any((DATA / "encoders").glob("*.enc"))


# --- the self-contained wheel (test_wheel.py, test_spark.py) -----------------

DISTENV = ROOT / os.environ.get("DISTENV", "build/distenv")


def header_version():
    """CASIE_VERSION_STRING in include/casie.h: the one place the version is defined."""
    import re

    m = re.search(r'^#define CASIE_VERSION_STRING "([^"]+)"', (ROOT / "include" / "casie.h").read_text(), re.M)
    return m.group(1)


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory):
    """scripts/build_wheel.sh's wheel, built once for the session: pip wheel,
    then auditwheel repair with the pinned tools of build/distenv.  Skipped,
    saying why, when scripts/dist_env.sh could not make that environment
    (under CI a skip fails the run)."""
    if not (DISTENV / "bin" / "auditwheel").exists():
        pytest.skip("no %s/bin/auditwheel: scripts/dist_env.sh could not install the pinned build tools" % DISTENV)
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run(["bash", str(ROOT / "scripts" / "build_wheel.sh"), str(out)], cwd=ROOT,
                       capture_output=True, check=False)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-4000:]
    wheels = sorted(out.glob("casie-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]
