"""The self-contained wheel (scripts/build_wheel.sh): what it holds, what its
libraries need, and that it installs into a fresh virtual environment and
extracts with Debian's libjansson, libutf8proc and libstemmer hidden from the
loader and no checkout in sight.

How the libraries are hidden: in a private mount namespace (`unshare
--mount`, as root), /dev/null is bind-mounted over each of the three Debian
libraries' files, so that loading them fails ("file too short") for that
process tree only; the test first checks that the system's libjansson then
fails to load, then imports casie there.  Without the rights to do so it
says why and checks the rest (the mapped files, below).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, SAMPLE, as_cli, cli_json, header_version

# what a manylinux wheel may need from the system: glibc's own libraries
SYSTEM_OK = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "ld-linux-x86-64.so.2"}
DEBIAN_LIBS = ("libjansson.so.4", "libutf8proc.so.2", "libstemmer.so.0d")

PROBE = r"""
import ctypes, json, os, sys
out = {}
hidden = []
for name in %r:
    try:
        ctypes.CDLL(name)
    except OSError as e:
        hidden.append(name)
out["hidden"] = hidden
import casie
out["version"] = casie.__version__
out["file"] = casie.__file__
m = casie.Model("fast")
out["fast"] = m.extract_file(sys.argv[1])
out["default_model"] = casie.Model().name
if os.path.exists(os.path.join(os.path.dirname(casie.__file__), "data", "encoders", "mpnet-base.enc")):
    out["accurate"] = casie.Model("accurate").extract(sys.argv[2], "short")
out["maps"] = sorted({l.split()[-1] for l in open("/proc/self/maps") if ".so" in l})
print(json.dumps(out))
"""

SHORT = "Hackers breached Acme Corp. and stole the data of 2 million customers."


def needed(path):
    """(NEEDED entries, RPATH/RUNPATH) of a shared object, by readelf -d."""
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    need = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    rpath = re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[([^\]]+)\]", out)
    return need, rpath


@pytest.fixture(scope="module")
def fresh_venv(built_wheel, tmp_path_factory):
    """A new virtual environment (no packages but pip) with the wheel installed
    from the file alone (--no-index: nothing fetched)."""
    d = tmp_path_factory.mktemp("fresh")
    venv = d / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-index", "--disable-pip-version-check",
                    str(built_wheel)], check=True)
    return venv


def site_casie(venv):
    (pkg,) = venv.glob("lib/python*/site-packages/casie")
    return pkg


def test_wheel_name_version_and_contents(built_wheel):
    v = header_version()
    assert re.fullmatch(r"casie-%s-py3-none-manylinux_2_\d+_x86_64\.whl" % re.escape(v), built_wheel.name), built_wheel.name
    with zipfile.ZipFile(built_wheel) as z:
        names = z.namelist()
        meta = z.read("casie-%s.dist-info/METADATA" % v).decode()
    assert "Version: %s" % v in meta
    for f in ("casie/_lib/libcasie.so", "casie/data/casie-fast.model", "casie/data/casie-accurate.model"):
        assert f in names, f
    for lib in ("libjansson", "libutf8proc", "libstemmer"):
        assert [n for n in names if n.startswith("casie.libs/" + lib)], lib
    if (ROOT / "models" / "encoders" / "mpnet-base.enc").exists():
        assert "casie/data/encoders/mpnet-base.enc" in names
    assert not [n for n in names if n.endswith(".c") or "/tests/" in n]


def test_wheel_needs_only_glibc(fresh_venv):
    pkg = site_casie(fresh_venv)
    libs = pkg.parent / "casie.libs"
    bundled = {p.name for p in libs.iterdir()}
    assert {b.split("-")[0] for b in bundled} == {"libjansson", "libutf8proc", "libstemmer"}
    need, rpath = needed(pkg / "_lib" / "libcasie.so")
    assert rpath == ["$ORIGIN/../../casie.libs"]
    assert set(need) <= bundled | SYSTEM_OK, need
    assert len(set(need) & bundled) == 3, need
    for b in libs.iterdir():
        n, _ = needed(b)
        assert set(n) <= bundled | SYSTEM_OK, (b.name, n)


def _hide_command(argv):
    """argv run with the Debian libraries hidden (a private mount namespace),
    or None when this process may not make one."""
    if not shutil.which("unshare") or os.geteuid() != 0:
        return None
    files = []
    for name in DEBIAN_LIBS:
        for d in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu"):
            p = pathlib.Path(d) / name
            if p.exists():
                files.append(os.path.realpath(p))
    files = sorted(set(files))
    script = "".join("mount --bind /dev/null %s && " % f for f in files) + 'exec "$@"'
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "hide"] + list(argv)


def test_wheel_runs_without_debian_libs(fresh_venv, tmp_path):
    """In an empty folder, with no CASIE_* variables, no LD_LIBRARY_PATH and
    the Debian libraries hidden: the fast model's events on the sample
    article equal the CLI's, and so do the accurate model's on a short text
    when the wheel bundles its encoder; every library mapped comes from the
    wheel or glibc."""
    py = str(fresh_venv / "bin" / "python")
    argv = [py, "-c", PROBE % (DEBIAN_LIBS,), str(SAMPLE), SHORT]
    cmd = _hide_command(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASIE_", "LD_", "PYTHON"))}
    r = subprocess.run(cmd or argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    if cmd:
        assert out["hidden"] == list(DEBIAN_LIBS), "the Debian libraries were not hidden: %s" % out["hidden"]
    else:
        print("test_wheel: no private mount namespace here (needs root and unshare); "
              "checked the mapped libraries only")
    assert out["file"].startswith(str(fresh_venv)), out["file"]
    assert out["version"] == header_version()
    maps = out["maps"]
    for lib in ("libcasie.so", "libjansson", "libutf8proc", "libstemmer"):
        mine = [m for m in maps if lib in os.path.basename(m)]
        assert mine and all(m.startswith(str(fresh_venv)) for m in mine), (lib, mine)
    assert as_cli(out["fast"]) == cli_json("extract", "-m", "fast", SAMPLE)
    if (ROOT / "models" / "encoders" / "mpnet-base.enc").exists():
        assert out["default_model"] == "default"
        assert as_cli(out["accurate"]) == cli_json("extract", "-m", "accurate", "--jsonl",
                                           stdin=json.dumps({"id": "short", "text": SHORT}).encode())
