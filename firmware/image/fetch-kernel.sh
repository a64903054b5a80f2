#!/bin/sh
# Fetches Debian's amd64 kernel (the package linux-image-amd64 points at)
# for the test image, unpacked into DIR with its modules.dep. It does
# nothing when DIR already holds it.
set -eu
out=${1:-firmware/image/build/kernel}
if [ -f "$out/.done" ]; then
	exit 0
fi
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
if [ -z "$pkg" ]; then
	apt-get update -qq
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null)
rm -rf "$out"
mkdir -p "$out"
dpkg-deb -x "$tmp"/*.deb "$out"
ver=$(ls "$out/lib/modules")
depmod -b "$out" "$ver"
ln -sf "boot/vmlinuz-$ver" "$out/vmlinuz"
touch "$out/.done"
echo "kernel $ver in $out"
