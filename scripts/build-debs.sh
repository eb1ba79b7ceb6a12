#!/bin/sh
# Build the DKMS packages pvrecover-dkms and vhost-recover-dkms with
# Debian's tools (dpkg-buildpackage, debhelper, dh_dkms) into build/deb/.
#
#   build-debs.sh             build both .debs (build/deb/*_VERSION_all.deb)
#   build-debs.sh --version   print the version they get
#
# The version is VERSION's (0.1), and for a commit that is not tagged
# vVERSION, +git<commits>.<hash> of HEAD: it grows with every commit on
# main and names what the package holds, since the packages are made
# from the committed tree (git archive HEAD), never from uncommitted
# edits.  Packaging lives in packaging/<package>/ (debian/, dkms.conf);
# the module's source is laid out under /usr/src/<module>-<version>/ as
# in the repository, so the repository's Kbuild files build it unchanged.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/deb
base=$(cat "$top/VERSION")

version() {
	if ! git -C "$top" rev-parse -q --verify HEAD >/dev/null 2>&1; then
		echo "$base"
	elif [ "$(git -C "$top" tag --points-at HEAD | grep -cx "v$base")" != 0 ]; then
		echo "$base"
	else
		echo "$base+git$(git -C "$top" rev-list --count HEAD).$(git -C "$top" rev-parse --short=7 HEAD)"
	fi
}
ver=$(version)
if [ "${1:-}" = --version ]; then
	echo "$ver"
	exit 0
fi

for t in dpkg-buildpackage dh dh_dkms; do
	command -v "$t" >/dev/null ||
		{ echo "build-debs: $t missing; run 'make setup'" >&2; exit 1; }
done

# pvrecover-dkms: guest/pvrecover; vhost-recover-dkms: host/vhost-recover
# and its PRE_BUILD step.  Both: the uapi headers.
pkg_paths() {	# package
	case $1 in
	pvrecover-dkms) echo "guest/pvrecover include/uapi" ;;
	vhost-recover-dkms) echo "host/vhost-recover include/uapi" ;;
	esac
}

git_tree=
if git -C "$top" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	git_tree=1
fi
rm -rf "$out/work"
mkdir -p "$out/work"
for pkg in pvrecover-dkms vhost-recover-dkms; do
	stage=$out/work/$pkg-$ver
	mkdir -p "$stage/src"
	cp -R "$top/packaging/$pkg/debian" "$stage/debian"
	cp "$top/packaging/$pkg/dkms.conf" "$stage/dkms.conf"
	# shellcheck disable=SC2046
	if [ -n "$git_tree" ]; then
		git -C "$top" archive --format=tar HEAD $(pkg_paths "$pkg") |
			tar -C "$stage/src" -xf -
		if [ -n "$(git -C "$top" status --porcelain -- $(pkg_paths "$pkg"))" ]; then
			echo "build-debs: note: $pkg is built from HEAD; uncommitted changes" \
				"under $(pkg_paths "$pkg") are not in it"
		fi
	else
		for d in $(pkg_paths "$pkg"); do
			mkdir -p "$stage/src/$d"
			cp -R "$top/$d/." "$stage/src/$d/"
		done
	fi
	# Only what Kbuild builds from: sources, headers, Kbuild.
	find "$stage/src" -type f ! -name '*.[ch]' ! -name Kbuild -delete
	find "$stage/src" -name '*.mod.c' -delete
	if [ -f "$top/packaging/$pkg/vhost-header.sh" ]; then
		cp -p "$top/packaging/$pkg/vhost-header.sh" "$stage/src/"
	fi
	if [ -n "$git_tree" ]; then
		date=$(git -C "$top" log -1 --format=%aD HEAD)
		what="Built from commit $(git -C "$top" rev-parse --short=12 HEAD)."
	else
		date=$(date -R)
		what="Built from a tree without git history."
	fi
	cat >"$stage/debian/changelog" <<-EOC
	$pkg ($ver) bookworm; urgency=medium

	  * $what

	 -- $(sed -n 's/^Maintainer: //p' "$stage/debian/control")  $date
	EOC
	echo "build-debs: $pkg $ver"
	(cd "$stage" && dpkg-buildpackage -b -us -uc) >"$out/work/$pkg.log" 2>&1 || {
		tail -n 30 "$out/work/$pkg.log" >&2
		echo "build-debs: dpkg-buildpackage failed for $pkg; log: $out/work/$pkg.log" >&2
		exit 1
	}
	# Older builds of the package go; the new one stays.
	rm -f "$out/${pkg}_"*.deb
	mv "$out/work/${pkg}_${ver}_all.deb" "$out/"
	echo "build-debs: $out/${pkg}_${ver}_all.deb"
done
