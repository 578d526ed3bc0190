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
