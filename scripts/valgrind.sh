#!/usr/bin/env bash
# Runs every test executable given under valgrind memcheck, the casie
# binaries they start included (--trace-children); other programs the tests
# start (the shell's tools, node, chromium, GNU parallel, the compiler) run
# natively.  Any memcheck error or leak in a test or in casie makes that
# process exit 99, which fails its test.  One closing line, as run_tests.sh.
set -u
skip='*/node,*/npm,*/npx,*/chromium*,*/chrome*,*/parallel,*/perl*,*/cc,*/gcc*,*/cc1*,*/clang*,*/ld*,*/as,*/collect2'
skip+=',*/make,*/pkg-config,*/install,*/ar,*/cmp,*/rm,*/mkdir,*/cat,*/sed,*/grep,*/diff,*/curl,*/sort,*/head,*/tail'
skip+=',*/wc,*/tr,*/cp,*/mv,*/ln,*/find,*/xargs,*/timeout,*/env,*/sleep,*/kill'
export VALGRIND_OPTS="--leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
  --error-exitcode=99 --trace-children=yes --trace-children-skip=$skip --num-callers=30 -q"
export CASIE_VALGRIND=1 # tests that shrink their extremes under valgrind
wrapped=()
for t in "$@"; do
  w=$t.vg
  printf '#!/bin/sh\nexec valgrind "%s" "$@"\n' "$(realpath "$t")" > "$w"
  chmod +x "$w"
  wrapped+=("$w")
done
BUILD=${BUILD:-build} bash scripts/run_tests.sh "${wrapped[@]}"
