// Package image holds edgeward's bootable test image: Debian's amd64
// kernel, an initramfs with a small init (init/) and the static binary,
// built by mkimage/ from the kernel fetch-kernel.sh unpacks. Its test
// boots the image in qemu and checks the box works and keeps its state
// across a power cut.
package image
