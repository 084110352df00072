#!/usr/bin/env bash
# Install a working CRIU (>= 4.2) on Debian 12 "bookworm" (x86_64) without touching the host's glibc.
#
# Why: bookworm's criu 3.17 fails on recent kernels (vDSO layout), trixie's 4.1 cannot dump TCP/UDP
# sockets; Debian testing/sid ship criu >= 4.2 but it needs glibc >= 2.38 (bookworm has 2.36).
#
# How: apt (with private sources/state under $STATE_DIR) downloads criu and the shared libraries it
# needs (including libc6) from the newer suite; they are unpacked with `dpkg -x` into $PREFIX and criu
# runs through that prefix's own dynamic loader. A wrapper `criu` in /usr/local/sbin execs it, so the
# PID and inherited file descriptors pass through (runc runs `criu swrk <fd>` from PATH).
# Debian's iptables is installed from the host's own sources (CRIU's network locking needs it).
#
# Idempotent: if the wrapper already reports criu >= 4.2 and `criu check` passes, it exits at once.
# Run as root. Environment overrides (all optional):
#   CEDANA_CRIU_PREFIX   install prefix            (default /opt/cedana/criu)
#   CEDANA_CRIU_STATE    apt state/cache/log dir   (default /var/cache/cedana-criu)
#   CEDANA_CRIU_SUITES   suites to try, in order   (default "forky sid")
#   CEDANA_CRIU_MIRROR   Debian mirror URI         (default: taken from the host's apt sources)
#   CEDANA_CRIU_FORCE=1  reinstall even if the current install works
set -Eeuo pipefail

PREFIX="${CEDANA_CRIU_PREFIX:-/opt/cedana/criu}"
STATE_DIR="${CEDANA_CRIU_STATE:-/var/cache/cedana-criu}"
SUITES="${CEDANA_CRIU_SUITES:-forky sid}"
FORCE="${CEDANA_CRIU_FORCE:-0}"
WRAPPER=/usr/local/sbin/criu
MIN_VERSION=4.2
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MULTIARCH=x86_64-linux-gnu
LOG="$STATE_DIR/install.log"

say() { echo "[install-criu] $*"; }

die() {
  echo "[install-criu] ERROR: $*" >&2
  if [[ -s "$LOG" ]]; then
    echo "[install-criu] last lines of $LOG:" >&2
    tail -n 25 "$LOG" | sed 's/^/    /' >&2
  fi
  exit 1
}

on_err() { # rc line command
  ((BASH_SUBSHELL > 0)) && exit "$1" # let the outer shell report it
  die "command failed (exit $1) at line $2: $3"
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

# Run a command with its output going to the log file only.
quiet() {
  echo "+ $*" >>"$LOG"
  "$@" >>"$LOG" 2>&1
}

# ---------------------------------------------------------------------------------------------
# Helpers to run / inspect a criu unpacked in a prefix.

loader_of() { echo "$1/usr/lib/$MULTIARCH/ld-linux-x86-64.so.2"; }
libpath_of() {
  local p="$1" dirs="$1/usr/lib/$MULTIARCH"
  [[ -d "$p/lib/$MULTIARCH" ]] && dirs="$dirs:$p/lib/$MULTIARCH"
  echo "$dirs"
}
# The loader is also reachable as PREFIX/loader/criu (a symlink): exec'ing it under that name makes
# the process's comm "criu" (so `pgrep -x criu`, ps, pidof see criu rather than "ld-linux-x86-64").
named_loader_of() { echo "$1/loader/criu"; }
ensure_named_loader() { # prefix
  mkdir -p "$1/loader" &&
    ln -sfn "../usr/lib/$MULTIARCH/ld-linux-x86-64.so.2" "$(named_loader_of "$1")"
}
# Command (array PCMD) that runs the criu unpacked in a prefix through the prefix's loader.
prefix_cmd() { PCMD=("$(named_loader_of "$1")" --library-path "$(libpath_of "$1")" "$1/usr/sbin/criu"); }

# Print "Version: x.y.z" -> x.y.z ; empty if it cannot be determined.
criu_version_of() { # command...
  timeout 60 "$@" --version 2>/dev/null | awk '/^Version:/ {print $2; exit}' || true
}

version_ok() { [[ -n "${1:-}" ]] && dpkg --compare-versions "$1" ge "$MIN_VERSION"; }

criu_check_ok() { # command...
  local out
  out="$(timeout 120 "$@" check 2>&1)" || { echo "$out" >>"$LOG"; return 1; }
  echo "$out" >>"$LOG"
  return 0
}

# Check that every shared library criu needs resolves inside the prefix. Prints problems.
missing_libs_of() { # prefix
  local p="$1" out
  out="$("$(loader_of "$p")" --list --library-path "$(libpath_of "$p")" "$p/usr/sbin/criu" 2>&1)" || {
    echo "$out" | sed 's/^/  /'
    return 0
  }
  # Lines look like: "libfoo.so.1 => /path/libfoo.so.1 (0x...)" or "libfoo.so.1 => not found".
  echo "$out" | awk -v pfx="$p/" '
    /=> not found/ { print "  " $1 " (not found)"; next }
    /=>/ { if (index($3, pfx) != 1) print "  " $1 " (resolved outside the prefix: " $3 ")" }'
}

prefix_works() { # prefix -> 0 if loader, libs, version and check are fine
  local p="$1" v
  [[ -x "$(loader_of "$p")" && -x "$p/usr/sbin/criu" ]] || return 1
  ensure_named_loader "$p" || return 1
  [[ -z "$(missing_libs_of "$p")" ]] || return 1
  prefix_cmd "$p"
  v="$(criu_version_of "${PCMD[@]}")"
  version_ok "$v" || return 1
  criu_check_ok "${PCMD[@]}"
}

# ---------------------------------------------------------------------------------------------
# Host apt: mirror discovery and iptables.

host_mirror() {
  if [[ -n "${CEDANA_CRIU_MIRROR:-}" ]]; then
    echo "$CEDANA_CRIU_MIRROR"
    return
  fi
  local m="" f
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    # deb822: first URIs of a "Types: deb" stanza that is not the security archive.
    m="$(awk '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) types = $i
          if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
        }
        if (types ~ /[ \t]deb([ \t]|$)/ && uris != "" && uris !~ /security/) {
          split(uris, u, /[ \t]+/); print u[1]; exit
        }
      }' "$f")"
    [[ -n "$m" ]] && break
  done
  if [[ -z "$m" && -r /etc/apt/sources.list ]]; then
    m="$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                             if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

ensure_iptables() {
  if dpkg-query -W -f='${Status}' iptables 2>/dev/null | grep -q '^install ok installed$'; then
    return
  fi
  say "installing Debian's iptables (apt-get update + install)"
  quiet apt-get update || die "apt-get update (host sources) failed"
  DEBIAN_FRONTEND=noninteractive quiet apt-get install -y --no-install-recommends iptables ||
    die "apt-get install iptables failed"
  command -v iptables-restore >/dev/null || die "iptables-restore not found after installing iptables"
}

# ---------------------------------------------------------------------------------------------
# Fetch criu + libraries from one suite into a staging prefix. Returns non-zero (with the reason
# in $FAIL_REASON) if this suite cannot provide a working criu >= MIN_VERSION.

FAIL_REASON=""

fetch_suite() { # suite staging_prefix
  local suite="$1" stage="$2" mirror sdir conf cand pkgs miss v
  mirror="$(host_mirror)"
  sdir="$STATE_DIR/apt-$suite"
  conf="$sdir/apt.conf"
  mkdir -p "$sdir/lists/partial" "$sdir/cache/archives/partial" "$sdir/sources.list.d" \
    "$sdir/preferences.d" "$sdir/debs"
  : >"$sdir/status"
  echo "deb [signed-by=$KEYRING] $mirror $suite main" >"$sdir/sources.list"
  cat >"$conf" <<EOF
#clear APT::Architectures;
APT::Architectures { "amd64"; };
APT::Architecture "amd64";
Dir::Etc::SourceList "$sdir/sources.list";
Dir::Etc::SourceParts "$sdir/sources.list.d";
Dir::Etc::Preferences "$sdir/preferences";
Dir::Etc::PreferencesParts "$sdir/preferences.d";
Dir::State::Lists "$sdir/lists";
Dir::State::status "$sdir/status";
Dir::Cache "$sdir/cache";
Acquire::Languages "none";
APT::Get::AllowUnauthenticated "false";
EOF
  local apt_opts=(-c "$conf")

  say "fetching package lists for '$suite' from $mirror"
  if ! quiet apt-get "${apt_opts[@]}" update; then
    FAIL_REASON="$suite: apt-get update failed (mirror $mirror, keyring $KEYRING)"
    return 1
  fi
  # apt-get update exits 0 on some fetch errors; make sure the index is really there.
  cand="$(apt-cache "${apt_opts[@]}" show --no-all-versions criu 2>>"$LOG" | awk '/^Version:/ {print $2; exit}' || true)"
  if [[ -z "$cand" ]]; then
    FAIL_REASON="$suite: no criu package in the index"
    return 1
  fi
  if ! dpkg --compare-versions "$cand" ge "$MIN_VERSION"; then
    FAIL_REASON="$suite: criu $cand is older than $MIN_VERSION"
    return 1
  fi

  # criu plus the closure of its Depends/Pre-Depends, restricted to library packages
  # (libc6, libgnutls30t64, ...). Anything missing is caught by the loader check below.
  pkgs="$(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances criu 2>>"$LOG" |
    awk '/^[^ <]/ && ($1 == "criu" || $1 ~ /^lib/) {print $1}' | sort -u)"
  echo "packages for $suite: $(echo $pkgs)" >>"$LOG"
  if ! grep -qx libc6 <<<"$pkgs"; then
    FAIL_REASON="$suite: could not resolve criu's dependencies (libc6 not among them)"
    return 1
  fi

  say "downloading criu $cand and $(($(wc -l <<<"$pkgs") - 1)) libraries from '$suite'"
  rm -f "$sdir/debs/"*.deb
  chown _apt:root "$sdir/debs" 2>/dev/null || true # lets apt download sandboxed (no warning)
  # shellcheck disable=SC2086
  if ! (cd "$sdir/debs" && quiet apt-get "${apt_opts[@]}" download $pkgs); then
    FAIL_REASON="$suite: apt-get download failed"
    return 1
  fi

  rm -rf "$stage"
  mkdir -p "$stage"
  local deb
  for deb in "$sdir/debs/"*.deb; do
    quiet dpkg -x "$deb" "$stage" || {
      FAIL_REASON="$suite: dpkg -x $(basename "$deb") failed"
      return 1
    }
  done

  if [[ ! -x "$(loader_of "$stage")" || ! -x "$stage/usr/sbin/criu" ]]; then
    FAIL_REASON="$suite: unpacked tree lacks $(loader_of /PREFIX) or /PREFIX/usr/sbin/criu"
    return 1
  fi
  ensure_named_loader "$stage" || {
    FAIL_REASON="$suite: cannot create $(named_loader_of "$stage")"
    return 1
  }
  miss="$(missing_libs_of "$stage")"
  if [[ -n "$miss" ]]; then
    FAIL_REASON="$suite: criu's shared libraries do not all resolve inside the prefix:"$'\n'"$miss"
    return 1
  fi
  prefix_cmd "$stage"
  v="$(criu_version_of "${PCMD[@]}")"
  if ! version_ok "$v"; then
    FAIL_REASON="$suite: unpacked criu does not run or reports version '${v:-?}' (< $MIN_VERSION)"
    return 1
  fi
  if ! criu_check_ok "${PCMD[@]}"; then
    FAIL_REASON="$suite: 'criu check' failed with criu $v"
    return 1
  fi
  return 0
}

wrapper_content() {
  cat <<EOF
#!/bin/sh
# criu >= $MIN_VERSION from Debian testing/sid, run with its own glibc through its own loader.
# Installed by Cedana's scripts/install-criu.sh; exec keeps the PID and inherited fds (criu swrk).
exec $(named_loader_of "$PREFIX") --library-path $(libpath_of "$PREFIX") $PREFIX/usr/sbin/criu "\$@"
EOF
}

wrapper_current() { [[ -f "$WRAPPER" && -x "$WRAPPER" && "$(cat "$WRAPPER")" == "$(wrapper_content)" ]]; }

write_wrapper() {
  local tmp
  wrapper_current && return
  mkdir -p "$(dirname "$WRAPPER")"
  tmp="$(mktemp "$WRAPPER.XXXXXX")"
  wrapper_content >"$tmp"
  chmod 0755 "$tmp"
  mv -f "$tmp" "$WRAPPER"
}

# ---------------------------------------------------------------------------------------------

main() {
  [[ "$(id -u)" == 0 ]] || { echo "[install-criu] ERROR: must run as root" >&2; exit 1; }
  [[ "$(uname -m)" == x86_64 ]] || { echo "[install-criu] ERROR: only x86_64 is supported" >&2; exit 1; }
  command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
    { echo "[install-criu] ERROR: needs apt-get and dpkg (Debian)" >&2; exit 1; }

  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/lock"
  flock 9 # one install at a time
  : >"$LOG"

  # Fast path: everything already in place.
  local v
  if [[ "$FORCE" != 1 ]] && wrapper_current && command -v iptables-restore >/dev/null; then
    v="$(criu_version_of "$WRAPPER")"
    if version_ok "$v" && criu_check_ok "$WRAPPER"; then
      say "criu $v already installed at $WRAPPER ('criu check' passes)"
      return 0
    fi
  fi

  ensure_iptables

  if [[ "$FORCE" != 1 ]] && prefix_works "$PREFIX"; then
    say "criu in $PREFIX works; keeping it"
  else
    local suite stage="$PREFIX.new" reasons=""
    mkdir -p "$(dirname "$PREFIX")"
    for suite in $SUITES; do
      if fetch_suite "$suite" "$stage"; then
        reasons=""
        break
      fi
      say "suite '$suite' not usable: $FAIL_REASON"
      reasons+="  - $FAIL_REASON"$'\n'
    done
    if [[ -n "$reasons" ]]; then
      rm -rf "$stage"
      die "no usable criu >= $MIN_VERSION found in suites: $SUITES"$'\n'"$reasons""(log: $LOG)"
    fi
    # Swap the new tree in (keep the old one until the new one is in place).
    rm -rf "$PREFIX.old"
    [[ -e "$PREFIX" ]] && mv "$PREFIX" "$PREFIX.old"
    mv "$stage" "$PREFIX"
    rm -rf "$PREFIX.old"
  fi

  write_wrapper

  v="$(criu_version_of "$WRAPPER")"
  version_ok "$v" || die "$WRAPPER --version reports '${v:-nothing}', expected >= $MIN_VERSION"
  criu_check_ok "$WRAPPER" || die "'$WRAPPER check' failed"
  if [[ "$(command -v criu || true)" != "$WRAPPER" ]]; then
    say "warning: 'criu' on PATH is $(command -v criu || echo 'not found'), not $WRAPPER"
  fi
  say "installed criu $v at $WRAPPER (prefix $PREFIX); 'criu check' passes"
}

main "$@"
