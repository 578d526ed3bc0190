"""setup.py - builds libcasie from the checkout around this folder and bundles it.

`pip install ./python` runs this in place (pip builds local folders in
tree), so the library's sources are one folder up.  The library is built
by the project's own Makefile (`make lib`, into the checkout's build/ like
a plain `make`), so the Python package and the CLI run the very same code
with the same flags; its shared object, the models (models/casie-*.model)
and the encoders fetched into models/encoders/ are copied into the
package.  Nothing is compiled against Python: the bindings are ctypes.

Not here: the bindings (casie/_native.py), the API (casie/*.py).
"""
import glob
import os
import re
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools before 70.1: the wheel package's
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _version():
    """The version, defined once: CASIE_VERSION_STRING in include/casie.h
    (the library's casie_version() returns the same string)."""
    h = os.path.join(ROOT, "include", "casie.h")
    try:
        with open(h, encoding="utf-8") as f:
            m = re.search(r'^#define CASIE_VERSION_STRING "([^"]+)"', f.read(), re.M)
    except OSError:
        m = None
    if not m:
        raise SystemExit(
            "casie: no CASIE_VERSION_STRING in %s; build from a casie checkout: pip install ./python" % h
        )
    return m.group(1)


def _make_lib():
    """Runs `make lib` in the checkout; returns the built libcasie.so."""
    if not os.path.isfile(os.path.join(ROOT, "include", "casie.h")):
        raise SystemExit(
            "casie: the libcasie sources are not beside this package (%s); "
            "install from a casie checkout: pip install ./python" % ROOT
        )
    jobs = os.environ.get("CASIE_MAKE_JOBS") or str(min(os.cpu_count() or 1, 4))
    # a make above us (make test) must not hand its jobserver down
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    build = env.get("BUILD", "build")
    try:
        subprocess.run(["make", "-C", ROOT, "-j" + jobs, "--no-print-directory", "lib"], check=True, env=env)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit("casie: building libcasie failed (%s); run scripts/setup.sh for the build tools" % e)
    so = os.path.join(ROOT, build, "libcasie.so")
    if not os.path.isfile(so):
        raise SystemExit("casie: make lib did not produce %s" % so)
    return so


class BuildWithLibcasie(build_py):
    """build_py, then libcasie and the models into the package."""

    def run(self):
        super().run()
        so = _make_lib()
        pkg = os.path.join(self.build_lib, "casie")
        for sub in ("_lib", "data"):  # nothing stale from an earlier build
            shutil.rmtree(os.path.join(pkg, sub), ignore_errors=True)
        os.makedirs(os.path.join(pkg, "_lib"))
        shutil.copyfile(so, os.path.join(pkg, "_lib", "libcasie.so"))
        data = os.path.join(pkg, "data")
        os.makedirs(os.path.join(data, "encoders"))
        models = sorted(glob.glob(os.path.join(ROOT, "models", "casie-*.model")))
        if not models:
            raise SystemExit("casie: no models in %s/models" % ROOT)
        for m in models:
            shutil.copyfile(m, os.path.join(data, os.path.basename(m)))
        # the threat-group catalogue for to_stix, when scripts/fetch_groups.sh made it
        groups = os.path.join(ROOT, "models", "casie-groups.tsv")
        if os.path.isfile(groups):
            shutil.copyfile(groups, os.path.join(data, "casie-groups.tsv"))
        # the encoder a bundled model reads, when scripts/fetch_encoder.sh
        # fetched it (a model names its encoder's file in its own bytes);
        # without it the default model is the fast one (as in the CLI).
        # CASIE_WHEEL_ENCODER=0 leaves it out (a 112 MB smaller package)
        if os.environ.get("CASIE_WHEEL_ENCODER", "1") == "0":
            return
        wanted = b"".join(open(m, "rb").read() for m in models)
        for e in sorted(glob.glob(os.path.join(ROOT, "models", "encoders", "*.enc"))):
            if os.path.basename(e).encode() in wanted:
                shutil.copyfile(e, os.path.join(data, "encoders", os.path.basename(e)))


class BinaryDistribution(Distribution):
    """The wheel holds a shared object: tag it for this platform."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    """Tagged py3-none-PLATFORM: the shared object is plain C loaded by
    ctypes, so one wheel serves every Python 3 on the platform
    (scripts/build_wheel.sh then makes PLATFORM a manylinux one)."""

    def get_tag(self):
        return ("py3", "none") + tuple(super().get_tag()[2:])


setup(
    version=_version(),
    cmdclass={"build_py": BuildWithLibcasie, "bdist_wheel": PlatformWheel},
    distclass=BinaryDistribution,
)
