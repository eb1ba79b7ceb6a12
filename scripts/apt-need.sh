# shellcheck shell=sh
# need PACKAGE...: install, from the machine's configured Debian archive,
# those of the packages not installed yet; idempotent.  Sourced by the
# scripts that install what they use (setup.sh, build-debug-kernel.sh),
# which set $need_who, the name their messages carry.  $updated is set
# once the package lists have been refreshed.
updated=""
need() {
	missing=""
	for p in "$@"; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$s" = installed ] || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "$need_who: need root to install:$missing" >&2
		exit 1
	fi
	echo "$need_who: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$updated" ]; then
		apt-get -q update >/dev/null
		updated=1
	fi
	# shellcheck disable=SC2086
	apt-get -q -y install --no-install-recommends $missing >/dev/null
}
