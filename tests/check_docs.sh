#!/usr/bin/env bash
# check_docs.sh - fails when the documentation drifts from the code.
#
#   BUILD=build bash tests/check_docs.sh      (run by scripts/run_tests.sh)
#
# What it checks, each list taken from the code, never from a list kept here:
#   1. every symbol libcasie.so exports (nm -D) is described in docs/API.md:
#      in the first cell of a table row, or in a paragraph (a cross-reference
#      inside another function's row or in the conventions does not count);
#   2. every subcommand of the CLI (the COMMANDS table of tools/casie.c) has a
#      synopsis and an entry under COMMANDS in docs/casie.1, and each of its
#      options, the names and short names in the option tables (cli_opt
#      NAME[] = {...}) of the file that defines its cmd_* function (and,
#      where that file reads casie_train_option_at's table, every --name of
#      the table in src/), appears both there and in `casie SUB --help`;
#      neither of those two names an option (-x, --xxx) that the tables lack
#      (-h and --help aside), and the file compares arguments with no option
#      ("-x", "--xxx") outside its tables; the words of a subcommand's own
#      subcommands (strcmp(argv[1], "import")) appear in both; the top-level
#      options too;
#   3. every environment variable read with getenv() in src/ or tools/ has an
#      entry under ENVIRONMENT in docs/casie.1 and appears in a --help text;
#   4. every source file (src/*.[ch], tools/*.[ch], include/*.h) is named in
#      the tree of docs/DESIGN.md, under its own folder (a .c file may be
#      named by its stem, as the src/ list does).
# Prints one line per item missing and exits 1, or a summary and exits 0.
# Needs bash, grep, sed, awk, nm and the built $BUILD/casie, $BUILD/libcasie.so.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
casie=$BUILD/casie
so=$BUILD/libcasie.so
api=docs/API.md
man=docs/casie.1
design=docs/DESIGN.md

nmiss=0
miss() {
    printf 'check_docs: missing: %s\n' "$*"
    nmiss=$((nmiss + 1))
}
for f in "$casie" "$so"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "check_docs: no $f (build first: make BUILD=$BUILD all)"; exit 1; }
done
# OPT as a whole word of text: not inside a longer option or word
has_word() { grep -qE -- "(^|[^A-Za-z0-9_-])$1([^A-Za-z0-9_-]|\$)"; }

# ---- 1. exported symbols in docs/API.md ------------------------------------
syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 {print $3}' | sed 's/@.*//' | sort -u)
[ -n "$syms" ] || miss "$so: nm -D found no exported symbol"
# the text that describes: first cells of table rows, and paragraph lines
# (not the bullets of the conventions, their continuation lines, headings)
api_desc=$(awk '/^\|/ {split($0, c, "|"); print c[2]; next}
                /^[^-# ]/ {print}' "$api")
n_syms=0
for s in $syms; do
    n_syms=$((n_syms + 1))
    printf '%s\n' "$api_desc" | has_word "$s" || miss "$api: exported function $s"
done

# ---- 2. subcommands and options in docs/casie.1 and --help -----------------
# the man page as text: no font escapes, \- as -
man_txt=$(sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' "$man")
section() { # the lines of section $1 (.SH NAME up to the next .SH)
    printf '%s\n' "$man_txt" | awk -v s="$1" '/^\.SH / {on = ($0 == ".SH " s); next} on'
}
synopsis=$(section SYNOPSIS)
commands=$(section COMMANDS)
environment=$(section ENVIRONMENT)

subs=$(grep -oE '\{"[a-z][a-z0-9-]*", *cmd_[a-z0-9_]+' tools/casie.c | sed 's/{"\(.*\)", *\(.*\)/\1 \2/')
[ -n "$subs" ] || miss "tools/casie.c: no COMMANDS table found"
sub_names=$(printf '%s\n' "$subs" | awk '{print $1}')
all_help=$("$casie" --help 2>&1)
n_subs=0 n_opts=0
# the options a file compares its arguments with: "-x", "--xxx", "--xxx="
opts_of() {
    grep -oE '"--?[A-Za-z][A-Za-z0-9-]*=?"' "$1" | tr -d '"=' | grep -vxE -- '-h|--help' | sort -u
}
# the options of a file's tables (tools/cli_io.h): each entry's name and
# short name, {"--model", "-m", ... or {"-o", NULL, ...
table_of() {
    awk '/cli_opt [A-Za-z_]+\[\] = \{/ {on = 1} on {print} on && /^\};/ {on = 0}' "$1" | tr '\n' ' ' |
        grep -oE '\{ *"--?[A-Za-z][A-Za-z0-9-]*", *("-[A-Za-z]"|NULL)' | grep -oE '"[^"]*"' | tr -d '"' | sort -u
}
# the options a text names: -x or --xxx as a word of its own (not the -Z of
# A-Z or the -Length of Content-Length), but -h and --help
opts_in() {
    grep -oE -- '(^|[^A-Za-z0-9_.-])--?[A-Za-z][A-Za-z0-9-]*' | grep -oE -- '--?[A-Za-z][A-Za-z0-9-]*' |
        grep -vxE -- '-h|--help' | sort -u
}
# the training parameters' table (casie_train_option_at), as --options
train_table=$(grep -l 'casie_train_option_at(int' src/*.c)
table_opts() {
    [ -n "$train_table" ] || { miss "src/: the table of casie_train_option_at not found"; return; }
    grep -ohE '\{\{"[a-z0-9_]+", *"[A-Z]+"' $train_table | sed 's/{{"\([a-z0-9_]*\)".*/\1/' | tr _ - | sed 's/^/--/'
}

while read -r sub fn; do
    [ -n "$sub" ] || continue
    n_subs=$((n_subs + 1))
    file=$(grep -lE "^int $fn\(" tools/*.c | head -1)
    if [ -z "$file" ]; then
        miss "tools/: the file defining $fn (casie $sub)"
        continue
    fi
    help=$("$casie" "$sub" --help 2>&1)
    rc=$?
    [ $rc -eq 0 ] || miss "casie $sub --help: exits $rc"
    # the man page's synopses of the subcommand (.B casie SUB [VERB] up to
    # .br) and its entry under COMMANDS (.B SUB up to the next one's .B)
    syn=$(printf '%s\n' "$synopsis" | awk -v s=".B casie $sub" '
        $0 == s || index($0, s " ") == 1 {on = 1; print; next}
        /^\.(br|SH|PP)/ {on = 0}
        on')
    ent=$(printf '%s\n' "$commands" | awk -v s="$sub" -v names="$sub_names" '
        BEGIN {n = split(names, a, "\n"); for (i = 1; i <= n; i++) is[".B " a[i]] = 1}
        $0 == ".B " s {on = 1; next}
        is[$0] {on = 0}
        on')
    [ -n "$syn" ] || miss "$man: SYNOPSIS of casie $sub"
    printf '%s\n' "$commands" | grep -qxF ".B $sub" || miss "$man: COMMANDS entry for $sub"
    printf '%s\n' "$all_help" | has_word "$sub" || miss "casie --help: command $sub"
    opts=$(table_of "$file")
    for o in $(opts_of "$file"); do
        printf '%s\n' "$opts" | grep -qxF -- "$o" || miss "$file: option $o compared outside its cli_opt table"
    done
    if grep -q 'casie_train_option_at' "$file"; then opts=$(printf '%s\n%s\n' "$opts" "$(table_opts)" | sort -u); fi
    for o in $opts; do
        n_opts=$((n_opts + 1))
        printf '%s\n%s\n' "$syn" "$ent" | has_word "$o" || miss "$man: casie $sub $o"
        printf '%s\n' "$help" | has_word "$o" || miss "casie $sub --help: $o"
    done
    # and nothing more: an option the man page or --help names is one of them
    for o in $(printf '%s\n%s\n' "$syn" "$ent" | opts_in); do
        printf '%s\n' "$opts" | grep -qxF -- "$o" || miss "$man: casie $sub $o, an option casie $sub lacks"
    done
    for o in $(printf '%s\n' "$help" | opts_in); do
        printf '%s\n' "$opts" | grep -qxF -- "$o" || miss "casie $sub --help: $o, an option casie $sub lacks"
    done
    # a subcommand's own subcommands: casie encoder import
    for v in $(grep -oE 'strcmp\(argv\[1\], "[a-z][a-z0-9-]*"\)' "$file" | sed 's/.*"\(.*\)".*/\1/' | sort -u); do
        n_opts=$((n_opts + 1))
        printf '%s\n%s\n' "$syn" "$ent" | has_word "$v" || miss "$man: casie $sub $v"
        printf '%s\n' "$help" | has_word "$v" || miss "casie $sub --help: $v"
    done
done <<<"$subs"

# the top-level options (casie --version)
for o in $(opts_of tools/casie.c); do
    n_opts=$((n_opts + 1))
    printf '%s\n' "$man_txt" | has_word "$o" || miss "$man: casie $o"
    printf '%s\n' "$all_help" | has_word "$o" || miss "casie --help: $o"
done

# ---- 3. environment variables ----------------------------------------------
vars=$(grep -ohE 'getenv\("[A-Za-z_][A-Za-z0-9_]*"\)' src/*.c src/*.h tools/*.c tools/*.h 2>/dev/null |
    sed 's/.*"\(.*\)".*/\1/' | sort -u)
helps=$(
    printf '%s\n' "$all_help"
    while read -r sub fn; do "$casie" "$sub" --help 2>&1; done <<<"$subs"
)
n_vars=0
for v in $vars; do
    n_vars=$((n_vars + 1))
    printf '%s\n' "$environment" | grep -qxF ".B $v" || miss "$man: ENVIRONMENT entry for $v"
    printf '%s\n' "$helps" | has_word "\\\$?$v" || miss "a --help text: \$$v"
done

# ---- 4. source files in DESIGN.md's tree -----------------------------------
tree=$(awk '/^## The tree/ {t = 1; next} t && /^```/ {c++; next} t && c == 1' "$design")
[ -n "$tree" ] || miss "$design: the tree (## The tree, a fenced block)"
n_files=0
for dir in include src tools; do
    # the folder's entry: its line and the indented lines after it
    blk=$(printf '%s\n' "$tree" | awk -v d="$dir/" '/^[^ ]/ {on = (index($0, d) == 1)} on')
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        n_files=$((n_files + 1))
        b=${f##*/}
        bre=$(printf '%s' "$b" | sed 's/\./\\./g')
        printf '%s\n' "$blk" | has_word "$bre" && continue
        # a stem counts as a name in a list (followed by , ; : ) " (" " and"
        # or the line's end), not as a word of a description
        case $b in *.c) printf '%s\n' "$blk" | grep -qE -- "(^|[ (])${b%.c}(,|;|:|\)| \(| and |\$)" && continue ;; esac
        miss "$design: $f in the tree"
    done
done

if [ $nmiss -gt 0 ]; then
    echo "check_docs: FAILED: $nmiss items undocumented (docs/API.md, docs/casie.1, --help, docs/DESIGN.md)"
    exit 1
fi
echo "check_docs: ok: $n_syms exported symbols, $n_subs commands with $n_opts options and verbs," \
    "$n_vars environment variables, $n_files source files documented"
