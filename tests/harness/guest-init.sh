#!/bin/sh
# /init of the test guests.  Kernel parameters:
#   pvr.modules=a,b,c   modules to load before the shell starts
#   pvr.pvrecover=0     do not load pvrecover.ko (default: load it)
# Prints "PVR-READY" when the shell is about to start on the console.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
export PATH=/bin

load_pvrecover=1
for arg in $(cat /proc/cmdline); do
	case $arg in
	pvr.modules=*)
		for m in $(echo "${arg#pvr.modules=}" | tr ',' ' '); do
			modprobe "$m" || echo "PVR-MODPROBE-FAILED $m"
		done ;;
	pvr.pvrecover=0) load_pvrecover=0 ;;
	esac
done
if [ "$load_pvrecover" = 1 ]; then
	modprobe pvrecover || echo "PVR-MODPROBE-FAILED pvrecover"
fi
echo "PVR-READY"
exec setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1'
