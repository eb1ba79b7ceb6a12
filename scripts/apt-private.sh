#!/bin/sh
# Fetch packages from Debian trixie without touching the system's apt state.
#
# The machine's own apt configuration stays bookworm-only: adding trixie as
# a system-wide binary source would replace libc.  Instead this keeps a
# private sources list and package lists under $PVR_APT (default
# build/apt) and uses them for "apt-get source" and "apt-get download"
# only.  The archive URI is taken from the machine's existing sources.
#
# Usage: apt-private.sh source PKG...    (download-only, into the cwd)
#        apt-private.sh download PKG...  (the .deb, into the cwd)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
state=${PVR_APT:-$top/build/apt}

archive_uri() {
	uri=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++)
			if ($i ~ /debian\/?$/ && $i !~ /security/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++)
			if ($i ~ /^(http|https|file):/) { print $i; exit } }' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || { echo "apt-private: no Debian archive URI in the apt configuration" >&2; exit 1; }
	echo "$uri"
}

mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
if [ ! -f "$state/sources.list" ]; then
	uri=$(archive_uri)
	printf 'deb %s trixie main\ndeb-src %s trixie main\n' "$uri" "$uri" > "$state/sources.list"
fi

opts="-o Dir::Etc::SourceList=$state/sources.list -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists=$state/lists -o Dir::Cache=$state/cache
      -o APT::Sandbox::User=root"

# Refresh the private lists at most once a day.
stamp=$state/lists/.stamp
if [ -z "$(find "$stamp" -mtime -1 2>/dev/null)" ]; then
	# shellcheck disable=SC2086
	apt-get $opts -q update >/dev/null
	touch "$stamp"
fi

cmd=$1
shift
case $cmd in
source)
	# shellcheck disable=SC2086
	apt-get $opts -q source --download-only "$@" ;;
download)
	# shellcheck disable=SC2086
	apt-get $opts -q download "$@" ;;
*)
	echo "apt-private: unknown command $cmd" >&2; exit 2 ;;
esac
