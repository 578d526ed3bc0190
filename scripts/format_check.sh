#!/usr/bin/env bash
# Checks that every C source and header in git is formatted by .clang-format
# (clang-format 14, Debian 12's; scripts/setup.sh installs it).  Exits 1 and
# names the first differences when one is not; `scripts/format_check.sh fix`
# formats them in place.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' | grep -v '^tests/data/')
if [ "${1:-}" = fix ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! out=$(clang-format --dry-run --Werror "${files[@]}" 2>&1); then
  echo "$out" | grep 'error:' | head -20
  echo "format: $(echo "$out" | grep -c 'error:') differences from .clang-format; scripts/format_check.sh fix formats them" >&2
  exit 1
fi
echo "format: ${#files[@]} files formatted as .clang-format says"
