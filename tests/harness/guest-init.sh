#!/bin/sh
# /init of the test guests.  Kernel parameters:
#   pvr.modules=a,b,c   modules to load before the shell starts
#   pvr.pvrecover=0     do not load pvrecover.ko (default: load it)
#   pvr.shell=ttyS1     where the shell runs (default: the console, ttyS0)
#   pvr.loglevel=N      the console's log level from /init on (with the
#                       kernel's loglevel=M: a quieter boot, see below)
# The shell prints "PVR-READY" there when it is ready for commands.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
export PATH=/bin
# An L2 writes its console a byte at a time through two emulated UARTs
# (its QEMU's, then L1's under TCG): its boot log alone took a quarter of
# a nested test.  The harness boots it with loglevel=5 (warnings and
# worse still shown, the kernel's checkers' reports among them) and the
# console gets everything but debug again here, before any module loads.
for arg in $(cat /proc/cmdline); do
	case $arg in
	pvr.loglevel=*) echo "${arg#pvr.loglevel=}" > /proc/sys/kernel/printk ;;
	esac
done

# The modules' tracepoints (guest/pvrecover/trace.h, host/vhost-recover/
# trace.h) are how the tests follow a recovery: tracefs is mounted, the
# events of pvrecover and vhost_recover are enabled each time modprobe
# loads one of them (a module's events start disabled at every load), and
# trace_pipe is streamed to the console, where the harness waits for its
# lines as for the kernel's (tests/harness/pvr.py, TRACE_LINE).
mount -t tracefs tracefs /sys/kernel/tracing
# A debug kernel's kmemleak is read there (make check-debug).
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# The kernel log's clock (local_clock()): "local" is raw sched_clock(),
# seconds apart from it in a KVM guest whose TSC is not stable.
echo global > /sys/kernel/tracing/trace_clock
# Lines the tests write to /dev/kmsg (io_reader's and io_writer's stalls,
# "pvr-test: ..." markers) are markers waited for: a writer's are not rate
# limited (by default ten in five seconds, the rest dropped).
echo on > /proc/sys/kernel/printk_devkmsg
cat > /bin/pvr-trace-on <<'END'
#!/bin/sh
for s in pvrecover vhost_recover; do
	e=/sys/kernel/tracing/events/$s/enable
	[ -e "$e" ] && [ "$(cat "$e")" != 1 ] && echo 1 > "$e"
done
exit 0
END
chmod 755 /bin/pvr-trace-on
# With pvr.trace_hook=1 (L1) a shell loop streams it instead, and runs a
# command the moment a line matches: /tmp/pvr-on-trace holds a shell
# pattern and a command, one a line (nested.py, arm_kill_on_trace; a
# second trace_pipe reader would take events from the first).
if grep -qw pvr.trace_hook=1 /proc/cmdline; then
	# dd in front: the shell reads a byte at a time, cheap from a pipe,
	# not from trace_pipe (about 0.1 s a line under TCG); busybox's cat
	# would splice into the pipe, and trace_pipe's splice waits for a
	# full page.
	(dd if=/sys/kernel/tracing/trace_pipe bs=4096 2>/dev/null |
	 while IFS= read -r l; do
		printf '%s\n' "$l"
		[ -e /tmp/pvr-on-trace ] || continue
		{ IFS= read -r pat; IFS= read -r cmd; } < /tmp/pvr-on-trace
		# shellcheck disable=SC2254
		case $l in $pat) rm -f /tmp/pvr-on-trace; eval "$cmd" ;; esac
	done > /dev/console) &
else
	(exec cat /sys/kernel/tracing/trace_pipe > /dev/console) &
fi

# modprobe is pvr-modprobe, a shell function in /init and in the shell
# (busybox's sh runs its own applet before any /bin/modprobe).  Modules
# the kernel has built in (Debian's 6.12 builds virtio_pci in) are loaded
# already: it says so, as kmod's does, instead of failing to find them in
# modules.dep, which busybox's reads alone.  After a load it enables the
# events of ours (pvr-trace-on); insmod would leave them disabled.
cat > /bin/pvr-modprobe <<'END'
#!/bin/sh
remove=0
for a in "$@"; do
	case $a in
	-r) remove=1 ;;
	-*) ;;
	*) name=$(echo "$a" | tr - _); break ;;
	esac
done
builtin=/lib/modules/$(uname -r)/modules.builtin
if [ -n "${name:-}" ] && [ -s "$builtin" ] &&
   sed 's,.*/,,; s,\.ko.*,,; s,-,_,g' "$builtin" | grep -qx "$name"; then
	[ $remove = 0 ] || echo "modprobe: $name is builtin" >&2
	exit $remove
fi
[ $remove = 0 ] || exec busybox modprobe "$@"
# pvrecover's events are enabled before it binds its device, which may
# hold notices already: probing waits for them.
ap=/sys/bus/virtio/drivers_autoprobe
if [ "${name:-}" = pvrecover ] && [ -e $ap ]; then
	echo 0 > $ap
	busybox modprobe "$@"
	rc=$?
	echo 1 > $ap
	pvr-trace-on
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d" ] && [ ! -e "$d/driver" ] &&
			echo "${d##*/}" > /sys/bus/virtio/drivers_probe 2>/dev/null
	done
	exit $rc
fi
busybox modprobe "$@" || exit
pvr-trace-on
END
chmod 755 /bin/pvr-modprobe
modprobe() { pvr-modprobe "$@"; }

load_pvrecover=1
shell=ttyS0
for arg in $(cat /proc/cmdline); do
	case $arg in
	pvr.modules=*)
		for m in $(echo "${arg#pvr.modules=}" | tr ',' ' '); do
			modprobe "$m" || echo "PVR-MODPROBE-FAILED $m"
		done ;;
	pvr.pvrecover=0) load_pvrecover=0 ;;
	pvr.shell=*) shell=${arg#pvr.shell=} ;;
	esac
done
if [ "$load_pvrecover" = 1 ]; then
	modprobe pvrecover || echo "PVR-MODPROBE-FAILED pvrecover"
fi
# The shell announces itself once it holds the tty: a serial port nobody
# has open drops what it receives.  No echo and no prompt: the harness
# reads command output and explicit end markers only.
printf '%s\n' 'stty -echo' "PS1=''" 'modprobe() { pvr-modprobe "$@"; }' \
	'echo PVR-READY' > /etc/pvr-shellrc
export ENV=/etc/pvr-shellrc
# init must not exit: a shell that ends (EOF) is started again.
while :; do
	setsid sh -c "exec sh -i </dev/$shell >/dev/$shell 2>&1"
	echo "PVR-SHELL-EXITED" > /dev/console
done
