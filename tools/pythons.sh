#!/bin/sh
# The Pythons of the given versions on this machine, newest first as given: one "VERSION PATH"
# line for each version found, e.g. `tools/pythons.sh 3.13 3.12 3.11`.
#
# Every pythonX.Y on PATH is tried in PATH order, and counts only if it runs and is that version:
# a pyenv shim for a version pyenv has installed but not selected fails to run, and is passed
# over. Where pyenv itself is on PATH, the versions it has installed count too (the newest
# patch release of each), since its shims alone cannot run them.
set -u

runs() {  # runs PATH X.Y: PATH is a working Python X.Y
    "$1" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$2'.split('.'))))" \
        >/dev/null 2>&1
}

for version in "$@"; do
    found=""
    IFS=:
    for dir in $PATH; do
        candidate="${dir:-.}/python$version"
        if [ -z "$found" ] && [ -x "$candidate" ] && runs "$candidate" "$version"; then
            found=$candidate
        fi
    done
    unset IFS
    if [ -z "$found" ] && command -v pyenv >/dev/null 2>&1; then
        root=$(pyenv root 2>/dev/null)
        pattern="^$(printf '%s' "$version" | sed 's/\./\\./g')\\.[0-9][0-9]*\$"
        for release in $(ls "$root/versions" 2>/dev/null | grep -E "$pattern" | sort -t. -k3,3nr); do
            candidate="$root/versions/$release/bin/python$version"
            if [ -z "$found" ] && [ -x "$candidate" ] && runs "$candidate" "$version"; then
                found=$candidate
            fi
        done
    fi
    if [ -n "$found" ]; then
        echo "$version $found"
    fi
done
