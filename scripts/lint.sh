#!/bin/sh
# Style and static checks; prints one line per check and fails if any does.
#   - the kernel's checkpatch.pl --strict on the kernel sources and uapi
#   - kernel-doc on the same files
#   - QEMU's checkpatch.pl on every patch of the series
#   - the series' copies of the uapi headers match QEMU's header import
#   - a W=1 build of the modules with warnings as errors, under sparse
#   - syntax of the shell and Python test tooling
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
b=$top/build
kvers=$("$top/scripts/kver.sh" --all) || exit 1
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

report() {	# name status
	if [ "$2" = 0 ]; then
		echo "lint: ok   $1"
	else
		echo "lint: FAIL $1"
		sed 's/^/    /' "$out" | tail -n 60
		fail=1
	fi
}

kernel_files=$(ls "$top"/guest/*/*.[ch] "$top"/host/*/*.[ch] \
	"$top"/tests/kmod/*.[ch] "$top"/include/uapi/linux/*.h 2>/dev/null |
	grep -v '\.mod\.c$')
# shellcheck disable=SC2086
"$b/checkpatch/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f $kernel_files >"$out" 2>&1
report "checkpatch --strict (kernel)" $?

# kernel-doc comments (the uapi headers' above all) parse without warnings.
# shellcheck disable=SC2086
perl "$b/checkpatch/kernel-doc" -none $kernel_files >"$out" 2>&1
rc=$?
grep -E 'warning|error' "$out" >/dev/null && rc=1
report "kernel-doc (kernel and uapi)" $rc

"$top/scripts/build-qemu.sh" --source-only >"$out" 2>&1 &&
for p in "$top"/qemu-patches/*.patch; do
	[ -f "$p" ] || continue
	"$b/qemu-src/scripts/checkpatch.pl" --no-color "$p" || exit 1
done >"$out" 2>&1
report "checkpatch (QEMU series)" $?

# The series carries each uapi header exactly as QEMU's header import would
# (the wire format in include/standard-headers, the vhost ioctls in
# linux-headers).  Each is a new file of one patch: its "+" lines are it.
rc=0
for hdr in $("$top/scripts/qemu-header.sh" --list | awk '{ print $2 }'); do
	awk -v f=" a/$hdr " '
		/^diff --git / { on = (index($0, f) > 0); body = 0; next }
		on && /^\+\+\+ / { body = 1; next }
		on && body && /^\+/ { print substr($0, 2) }
		on && body && /^(--|-- )$/ { on = 0 }
	' "$top"/qemu-patches/*.patch |
	"$top/scripts/qemu-header.sh" --diff "$(basename "$hdr")" || rc=1
done >"$out" 2>&1
report "QEMU copies of the uapi headers in sync" $rc

# Every module on every kernel of the matrix.
for k in $kvers; do
	"$top/scripts/build-modules.sh" --clean "$k" W=1 C=2 CHECK=sparse \
		KCFLAGS=-Werror >"$out" 2>&1
	rc=$?
	if [ $rc = 0 ] && grep -E 'warning:|error:' "$out" >/dev/null; then
		rc=1
	fi
	report "W=1 -Werror + sparse, all modules ($k)" $rc
done

rc=0
for s in "$top"/scripts/*.sh "$top"/tests/harness/*.sh "$top"/.ci/run \
	"$top"/packaging/*/*.sh "$top"/packaging/*/debian/*.postinst; do
	sh -n "$s" || rc=1
done >"$out" 2>&1
report "sh -n (scripts)" $rc

python3 -m py_compile "$top"/tests/*.py "$top"/tests/*/*.py >"$out" 2>&1
report "python syntax (tests)" $?
find "$top/tests" -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null

exit $fail
