#!/bin/sh
# bench/vm/build-guest.sh OUTDIR: the guest of the fast-path benchmark's VM
# case (bench/fastpath.sh): the Debian cloud kernel (downloaded as a .deb,
# not installed) and a busybox initramfs whose /init (bench/vm/init) makes
# the guest a router between two virtio NICs. Writes OUTDIR/vmlinuz and
# OUTDIR/initrd.gz; a second run with both present and newer than the
# inputs does nothing (cached). Needs busybox-static and apt (the caller
# installs packages). Prints one line saying what it did.
set -eu
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ] &&
    [ -z "$(find "$HERE/init" "$HERE/build-guest.sh" -newer "$OUT/initrd.gz")" ]; then
    echo "guest: cached in $OUT ($(cat "$OUT/kernel-version" 2>/dev/null))"
    exit 0
fi
BUSYBOX=/bin/busybox
"$BUSYBOX" --list | grep -qx cpio || { echo "guest: $BUSYBOX has no cpio (install busybox-static)" >&2; exit 1; }
# The kernel package behind the metapackage: its ABI name changes with
# point releases.
KPKG=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
[ -n "$KPKG" ] || { echo "guest: cannot resolve linux-image-cloud-amd64 (apt-get update?)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/bf-guest.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
DEB=$(ls "$OUT"/"$KPKG"_*.deb 2>/dev/null | head -1 || true)
if [ -z "$DEB" ]; then
    (cd "$OUT" && apt-get download -q "$KPKG" 2>&1 | grep -v 'unsandboxed' || true)
    DEB=$(ls "$OUT"/"$KPKG"_*.deb 2>/dev/null | head -1 || true)
    [ -n "$DEB" ] || { echo "guest: apt-get download $KPKG failed" >&2; exit 1; }
fi
dpkg-deb -x "$DEB" "$W/k"
KVER=${KPKG#linux-image-}
cp "$W/k/boot/vmlinuz-$KVER" "$OUT/vmlinuz.new"
R=$W/root
mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev" "$R/lib/modules" "$R/tmp"
cp "$BUSYBOX" "$R/bin/busybox"
cp "$HERE/init" "$R/init"
chmod 755 "$R/init" "$R/bin/busybox"
M=$W/k/lib/modules/$KVER/kernel
for m in drivers/virtio/virtio_ring drivers/virtio/virtio \
         drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci net/core/failover drivers/net/net_failover \
         drivers/net/virtio_net; do
    if [ -f "$M/$m.ko" ]; then
        cp "$M/$m.ko" "$R/lib/modules/"
    elif [ -f "$M/$m.ko.xz" ]; then
        xz -dc "$M/$m.ko.xz" > "$R/lib/modules/$(basename "$m").ko"
    else
        echo "guest: module $m not in $KPKG" >&2
        exit 1
    fi
done
# The kernel opens /dev/console for /init before anything is mounted.
mknod "$R/dev/console" c 5 1
(cd "$R" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -9 > "$OUT/initrd.gz.new"
mv "$OUT/vmlinuz.new" "$OUT/vmlinuz"
mv "$OUT/initrd.gz.new" "$OUT/initrd.gz"
echo "$KVER" > "$OUT/kernel-version"
echo "guest: built $OUT/vmlinuz ($KVER) and initrd.gz ($(du -k "$OUT/initrd.gz" | cut -f1) KiB)"
