#!/usr/bin/env python3
"""check_layers.py - the shape of the code, checked on every test run.

  - No loop of files: file A calls file B when A's object uses a symbol that
    B's object defines (nm over $BUILD/src and $BUILD/tools); no files may
    call each other in a cycle, directly or through others.  Headers may not
    include each other in a cycle either.
  - Each header is included only where used: a file that includes src/X.h
    names something X.h declares.
  - The library reads no environment variable (no getenv in src/).
  - src/internal.h is under 300 lines; no file in src/ or tools/ is over 800.
  - The programs beside the library (bench/*.c, which make bench builds
    and CI runs) still compile against its headers.
  - The version is written once (CASIE_VERSION_STRING in include/casie.h):
    no other source, build or package file spells it, and the man page's
    header names the same.

Prints each problem and exits 1 when there is one.  Usage:
  BUILD=build python3 tests/check_layers.py
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("BUILD") or "build"
MAX_LINES, MAX_INTERNAL = 800, 300
problems = []


def sources():
    return sorted(glob.glob("src/*.[ch]") + glob.glob("tools/*.[ch]"))


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"//[^\n]*", " ", text)


# ---- calls: nm over the objects of today's sources ----
def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVWi":
            defined.add(parts[2].split(".")[0])  # target_clones: name.avx2, name.default
        elif len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
    return defined, used


def call_graph():
    defs, uses = {}, {}
    for src in glob.glob("src/*.c") + glob.glob("tools/*.c"):
        obj = os.path.join(BUILD, src[:-2] + ".o")
        if not os.path.exists(obj):
            problems.append("%s: no object %s (build first: make all)" % (src, obj))
            continue
        defs[src], uses[src] = symbols(obj)
    owner = {}
    for f, d in defs.items():
        for s in d:
            owner.setdefault(s, f)
    graph = {f: {} for f in defs}
    for f, u in uses.items():
        for s in u:
            g = owner.get(s)
            if g and g != f:
                graph[f].setdefault(g, []).append(s)
    return graph


def cycles(graph):
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check_calls():
    graph = call_graph()
    for comp in cycles(graph):
        edges = []
        for a in comp:
            for b in comp:
                if b in graph[a]:
                    edges.append("%s -> %s (%s)" % (a, b, ", ".join(sorted(graph[a][b])[:3])))
        problems.append("files call each other in a loop: " + "; ".join(edges))


# ---- includes ----
def includes(path):
    with open(path, encoding="utf-8") as f:
        return re.findall(r'^#include "([^"]+)"', f.read(), re.M)


def declared(header_text):
    """What a header declares: functions, types, macros, enumerators, struct tags."""
    t = strip_comments(header_text)
    names = set(re.findall(r"\b(\w+)\s*\(", t))
    names |= set(re.findall(r"#define\s+(\w+)", t))
    names |= set(re.findall(r"}\s*(\w+)\s*;", t))
    names |= set(re.findall(r"typedef\s+[\w\s\*]+?\b(\w+)\s*;", t))
    names |= set(re.findall(r"typedef\s+\w+\s*\(\s*\*\s*(\w+)\s*\)", t))
    names |= set(re.findall(r"struct\s+(\w+)\s*{", t))
    names |= set(re.findall(r"extern\s+[^;]*?\b(\w+)\s*(?:\[\])?\s*;", t))
    for body in re.findall(r"enum\s*\w*\s*{([^}]*)}", t):
        for item in body.split(","):
            m = re.match(r"\s*(\w+)", item)
            if m:
                names.add(m.group(1))
    keywords = {"if", "for", "while", "return", "sizeof", "switch", "defined", "__attribute__", "format", "printf"}
    return names - keywords


def check_includes():
    graph = {}
    for path in sources():
        here = os.path.dirname(path)
        graph[path] = {}
        for inc in includes(path):
            target = os.path.normpath(os.path.join(here, inc))
            if os.path.exists(target):
                graph[path][target] = [inc]
    for comp in cycles({k: v for k, v in graph.items() if k.endswith(".h")}):
        problems.append("headers include each other in a loop: " + ", ".join(comp))
    decl = {}
    for path in sources():
        if not path.endswith(".h") or os.path.basename(path) in ("internal.h",):
            continue
        with open(path, encoding="utf-8") as f:
            decl[path] = declared(f.read())
    for path in sources():
        with open(path, encoding="utf-8") as f:
            text = strip_comments(f.read())
        words = set(re.findall(r"\w+", text))
        for target in graph[path]:
            if target not in decl or target == path:
                continue
            own = os.path.splitext(path)[0] + ".h" == target  # a file includes its own header
            if not own and not (decl[target] & words):
                problems.append("%s includes %s but uses nothing it declares" % (path, os.path.basename(target)))


# ---- sizes and the environment ----
def check_sizes():
    for path in sources():
        with open(path, encoding="utf-8") as f:
            n = sum(1 for _ in f)
        limit = MAX_INTERNAL - 1 if path == "src/internal.h" else MAX_LINES  # internal.h: under 300
        if n > limit:
            problems.append("%s: %d lines (at most %d)" % (path, n, limit))
    for path in glob.glob("src/*.[ch]"):
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if re.search(r"\b(secure_)?getenv\s*\(", strip_comments(line)):
                    problems.append("%s:%d: the library reads the environment (pass it in instead)" % (path, i))


def check_bench():
    cc = os.environ.get("CC") or "cc"
    for path in sorted(glob.glob("bench/*.c")):
        r = subprocess.run([cc, "-std=c11", "-D_GNU_SOURCE", "-Werror=implicit-function-declaration", "-Iinclude", "-Isrc",
                            "-fsyntax-only", path], capture_output=True, text=True)
        if r.returncode:
            first = (r.stderr.strip().splitlines() or ["?"])[0]
            problems.append("%s does not compile against today's headers: %s" % (path, first))


def check_version():
    with open("include/casie.h", encoding="utf-8") as f:
        m = re.search(r'#define CASIE_VERSION_STRING "([^"]+)"', f.read())
    if not m:
        problems.append("include/casie.h: no CASIE_VERSION_STRING")
        return
    version = m.group(1)
    spelled = re.compile(r"(?<![\w.])" + re.escape(version) + r"(?![\w.])")
    files = sources() + ["Makefile", "casie.pc.in"] + glob.glob("python/*.py") + glob.glob("python/*.toml")
    files += glob.glob("python/casie/*.py") + glob.glob("scripts/*.sh")
    for path in files:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if spelled.search(line) and "==" + version not in line:  # not a pinned package's
                    problems.append("%s:%d: the version %s written again (derive it from include/casie.h)"
                                    % (path, i, version))
    with open("docs/casie.1", encoding="utf-8") as f:
        th = f.readline()
    if '"casie %s"' % version not in th:
        problems.append("docs/casie.1: its .TH line does not name casie %s" % version)


def main():
    os.chdir(ROOT)
    check_calls()
    check_includes()
    check_sizes()
    check_bench()
    check_version()
    for p in problems:
        print("check_layers: " + p)
    n_files = len(sources())
    if problems:
        print("check_layers: FAILED: %d problem(s) in %d files" % (len(problems), n_files))
        return 1
    print("check_layers: ok: %d files, no loop of calls or includes, no getenv in src/, sizes within bounds" % n_files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
