#!/bin/sh
# /init of the test guests.  Kernel parameters:
#   pvr.modules=a,b,c   modules to load before the shell starts
#   pvr.pvrecover=0     do not load pvrecover.ko (default: load it)
#   pvr.shell=ttyS1     where the shell runs (default: the console, ttyS0)
# The shell prints "PVR-READY" there when it is ready for commands.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
export PATH=/bin

# Modules the kernel has built in (Debian's 6.12 builds virtio_pci in) are
# loaded already: modprobe says so, as kmod's does, instead of failing
# to find them in modules.dep, which busybox's reads alone.
builtin=/lib/modules/$(uname -r)/modules.builtin
if [ -s "$builtin" ]; then
	rm -f /bin/modprobe
	cat > /bin/modprobe <<'END'
#!/bin/sh
remove=0
for a in "$@"; do
	case $a in
	-r) remove=1 ;;
	-*) ;;
	*) name=$(echo "$a" | tr - _); break ;;
	esac
done
if [ -n "${name:-}" ] &&
   sed 's,.*/,,; s,\.ko.*,,; s,-,_,g' "/lib/modules/$(uname -r)/modules.builtin" |
   grep -qx "$name"; then
	[ $remove = 0 ] || echo "modprobe: $name is builtin" >&2
	exit $remove
fi
exec busybox modprobe "$@"
END
	chmod 755 /bin/modprobe
fi

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
printf '%s\n' 'stty -echo' "PS1=''" 'echo PVR-READY' > /etc/pvr-shellrc
export ENV=/etc/pvr-shellrc
# init must not exit: a shell that ends (EOF) is started again.
while :; do
	setsid sh -c "exec sh -i </dev/$shell >/dev/$shell 2>&1"
	echo "PVR-SHELL-EXITED" > /dev/console
done
