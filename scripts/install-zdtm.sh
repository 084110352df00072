#!/usr/bin/env bash
# Build CRIU's own ZDTM tests that the e2e tests run through cedana (test/src/e2e/zdtm.test.ts):
# the zdtm library (test/zdtm/lib) and the tests listed in TESTS, from the source of Debian's criu
# package (>= 4.2, the suite install-criu.sh takes its binaries from). Nothing of CRIU is kept in
# this repository: the source is fetched and built here, on the test machine.
#
# How: apt, with a private deb-src list and state under $DIR/apt, finds criu's source package and
# prints its .orig.tar URI and SHA256 (`apt-get source --print-uris`); curl fetches the tarball,
# sha256sum checks it, tar takes only test/zdtm/lib and the tests' .c files, gcc builds them into
# $DIR/bin, and statically linked into $DIR/bin/static (to run inside a busybox container).
#
# Idempotent: when $DIR/bin has every test of TESTS built from the same version, it exits at once.
# Environment (optional): CEDANA_ZDTM_DIR (default /var/cache/cedana-zdtm), CEDANA_CRIU_SUITES
# (default "forky sid"), CEDANA_CRIU_MIRROR (default: the host's apt mirror).
set -Eeuo pipefail

DIR="${CEDANA_ZDTM_DIR:-/var/cache/cedana-zdtm}"
SUITES="${CEDANA_CRIU_SUITES:-forky sid}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
TESTS="file_locks00"
LIBSRC="datagen.c msg.c parseargs.c test.c streamutil.c lock.c ns.c tcp.c unix.c fs.c sysctl.c mem.c file.c mountinfo.c"
LOG="$DIR/install.log"

say() { echo "[install-zdtm] $*"; }
die() {
  echo "[install-zdtm] ERROR: $*" >&2
  [[ -s "$LOG" ]] && tail -n 15 "$LOG" | sed 's/^/    /' >&2
  exit 1
}
trap 'die "command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
quiet() {
  echo "+ $*" >>"$LOG"
  "$@" >>"$LOG" 2>&1
}

built() { # version -> 0 when every test is there, built from that version
  [[ -f "$DIR/bin/VERSION" && "$(cat "$DIR/bin/VERSION")" == "$1" ]] || return 1
  local t
  for t in $TESTS; do [[ -x "$DIR/bin/$t" && -x "$DIR/bin/static/$t" ]] || return 1; done
}

host_mirror() {
  if [[ -n "${CEDANA_CRIU_MIRROR:-}" ]]; then
    echo "$CEDANA_CRIU_MIRROR"
    return
  fi
  local m
  m="$(awk '/^URIs:/ && !/security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  echo "${m:-http://deb.debian.org/debian}"
}

mkdir -p "$DIR"
: >"$LOG"
# A quick way out when built: the version is recorded, and no network is needed to check it.
if [[ -f "$DIR/bin/VERSION" ]] && built "$(cat "$DIR/bin/VERSION")"; then
  say "built already: $TESTS (criu $(cat "$DIR/bin/VERSION")) in $DIR/bin"
  exit 0
fi
for tool in apt-get curl sha256sum tar xz gcc ar; do command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install apt curl coreutils tar xz-utils gcc binutils)"; done

mirror="$(host_mirror)"
uri="" sha="" version=""
for suite in $SUITES; do
  a="$DIR/apt/$suite"
  mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/sources.list.d" "$a/preferences.d"
  : >"$a/status"
  echo "deb-src [signed-by=$KEYRING] $mirror $suite main" >"$a/sources.list"
  cat >"$a/apt.conf" <<EOF
Dir::Etc::SourceList "$a/sources.list";
Dir::Etc::SourceParts "$a/sources.list.d";
Dir::Etc::Preferences "$a/preferences";
Dir::Etc::PreferencesParts "$a/preferences.d";
Dir::State::Lists "$a/lists";
Dir::State::status "$a/status";
Dir::Cache "$a/cache";
Acquire::Languages "none";
EOF
  say "looking for criu's source in '$suite' ($mirror)"
  quiet apt-get -c "$a/apt.conf" update || { say "$suite: apt-get update failed"; continue; }
  version="$(apt-cache -c "$a/apt.conf" showsrc criu 2>>"$LOG" | awk '/^Version:/ { print $2; exit }' || true)"
  [[ -n "$version" ]] && dpkg --compare-versions "$version" ge 4.2 || { say "$suite: no criu >= 4.2 source (found '${version:-none}')"; continue; }
  # Lines of --print-uris: 'URI' FILE SIZE SHA256:HASH
  # In an empty folder: apt lists no URI of a file that is already in the current one.
  mkdir -p "$a/uris"
  line="$(cd "$a/uris" && apt-get -c "$a/apt.conf" source --print-uris criu 2>>"$LOG" | grep "\.orig\.tar\." | head -n 1 || true)"
  uri="$(echo "$line" | awk '{ gsub("\x27", "", $1); print $1 }')"
  sha="$(echo "$line" | awk '{ sub("^SHA256:", "", $4); print $4 }')"
  [[ -n "$uri" && ${#sha} == 64 ]] && break
  say "$suite: criu $version has no .orig tarball listed"
  uri=""
done
[[ -n "$uri" ]] || die "no criu >= 4.2 source package found in: $SUITES (mirror $mirror)"
built "$version" && { say "built already: $TESTS (criu $version)"; exit 0; }

tarball="$DIR/$(basename "$uri")"
if ! echo "$sha  $tarball" | sha256sum --check --status 2>/dev/null; then
  say "fetching $uri"
  quiet curl -fsSL --retry 2 -o "$tarball.part" "$uri" || die "could not download $uri"
  echo "$sha  $tarball.part" | sha256sum --check --status || die "$tarball: sha256 is not $sha"
  mv "$tarball.part" "$tarball"
fi

src="$DIR/src"
rm -rf "$src" "$DIR/bin"
mkdir -p "$src" "$DIR/bin/static" "$DIR/obj"
members=('*/test/zdtm/lib')
for t in $TESTS; do members+=("*/test/zdtm/static/$t.c"); done
quiet tar xf "$tarball" -C "$src" --strip-components=1 --wildcards "${members[@]}" || die "$tarball lacks test/zdtm/lib or a test of: $TESTS"

say "building the zdtm library and $TESTS with gcc"
lib="$src/test/zdtm/lib"
cflags=(-O2 -g -D_GNU_SOURCE -D_LARGEFILE64_SOURCE -iquote "$lib/arch/x86/include" -I "$lib")
objs=()
for f in $LIBSRC; do
  quiet gcc "${cflags[@]}" -c "$lib/$f" -o "$DIR/obj/${f%.c}.o" || die "gcc $f failed"
  objs+=("$DIR/obj/${f%.c}.o")
done
quiet ar rcs "$DIR/obj/libzdtmtst.a" "${objs[@]}"
for t in $TESTS; do
  quiet gcc "${cflags[@]}" "$src/test/zdtm/static/$t.c" "$DIR/obj/libzdtmtst.a" -o "$DIR/bin/$t" || die "gcc $t failed"
  quiet gcc -static "${cflags[@]}" "$src/test/zdtm/static/$t.c" "$DIR/obj/libzdtmtst.a" -o "$DIR/bin/static/$t" ||
    die "gcc -static $t failed (Debian: libc6-dev has the static libc)"
done
echo "$version" >"$DIR/bin/VERSION"
say "built $TESTS (criu $version) in $DIR/bin"
