// Package firmware holds what turns the edgeward binary into something a
// router can run: the size report of the cross builds (cmd/sizes, behind
// make firmware-builds), the OpenWrt packages (openwrt, cmd/mkpkg), the
// systemd unit (systemd) and the bootable test image (image).
package firmware
