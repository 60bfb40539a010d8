# scripts/lib.sh -- what scripts/demo and scripts/test share: where the
# source and build trees are, and how a tree is configured and built.
# Sourced, not run. Sets `src` (the source tree) and `jobs`.

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck disable=SC2034 # used by the scripts that source this file
jobs=$(nproc 2>/dev/null || echo 2)

log() { printf '%s: %s\n' "${prog:-prx}" "$*"; }

# The build the demo and `make check` use: the source tree itself when it
# has been configured in place, else _build/default.
default_builddir() {
    if [ -f "$src/config.status" ]; then echo "$src"; else echo "$src/_build/default"; fi
}

# build_tree SRCDIR BUILDDIR [configure options...]
# autoreconf when SRCDIR has no configure yet, configure BUILDDIR when it
# is new or its options changed, then make. Output goes to
# BUILDDIR/build.log; its tail is shown when something fails.
build_tree() {
    local s=$1 b=$2
    shift 2
    local blog=$b/build.log want
    mkdir -p "$b"
    : >"$blog"
    if [ ! -x "$s/configure" ]; then
        log "autoreconf -fi in $s"
        (cd "$s" && autoreconf -fi) >>"$blog" 2>&1 || { tail -n 40 "$blog"; return 1; }
    fi
    want="$*"
    if [ ! -f "$b/Makefile" ] || [ "$(cat "$b/.prx-configure" 2>/dev/null)" != "$want" ]; then
        log "configure $want (in $b)"
        (cd "$b" && "$s/configure" "$@") >>"$blog" 2>&1 || { tail -n 40 "$blog"; return 1; }
        printf '%s' "$want" >"$b/.prx-configure"
    fi
    log "make -j$jobs (in $b)"
    make -C "$b" -j"$jobs" >>"$blog" 2>&1 || { tail -n 60 "$blog"; return 1; }
}

# A source tree for an out-of-tree build: autotools refuses to build out of
# a tree that is configured in place, so then a copy of the tracked and
# untracked-but-not-ignored files, made afresh under _build/.
vpath_srcdir() {
    local copy=$src/_build/$1-src
    if [ ! -f "$src/config.status" ]; then
        echo "$src"
        return
    fi
    rm -rf "$copy"
    mkdir -p "$copy"
    (cd "$src" && git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf -) \
        | tar -C "$copy" -xf -
    echo "$copy"
}
