# edgeward: the same targets as Taskfile.yml.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/edgeward
DATA     ?= ./data
LISTEN   ?= 127.0.0.1:8080

.PHONY: run build test generate lint bench clean firmware-builds firmware-sizes firmware-packages firmware-image firmware

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/edgeward

run: build
	$(BIN) serve --listen $(LISTEN) --data $(DATA)

# Every test: unit, store, kernel (in namespaces the tests make, as root)
# and the black-box test of the built binary.
test:
	$(GO) test -count=1 -race -timeout 15m ./...

generate:
	$(GO) tool templ generate -include-version=false

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

# The WireGuard data-plane benchmarks run once each (-benchtime=1x): an
# iteration is a 5 s iperf3 run, 100 peer adds or a restart with 10,000
# peers, after a setup that builds those peers through the API.
# The last lines repeat the speed and memory goals' figures, each a ratio
# (see README "Speed and memory").
bench:
	@out=$$(mktemp); \
	{ $(GO) test -run '^$$' -bench . -skip '^BenchmarkWG' -benchmem -count=1 ./... && \
	  $(GO) test -run '^$$' -bench '^BenchmarkWG' -benchtime=1x -count=1 -timeout 20m ./cmd/edgeward/; \
	  echo $$? > $$out.rc; } | tee $$out; \
	echo "--- goals: of_bare >= 0.33, api/nft <= 0.5, p99/goal < 1 (5 ms), of_goal < 1 (48 MiB), of_unlogged near 1"; \
	grep -E '^Benchmark(ListPeers10k/loopback|BulkBan100k|BanOne|CutWith100kFlows|AccessLog|WGRSSBans)\b' $$out; \
	rc=$$(cat $$out.rc); rm -f $$out $$out.rc; exit $$rc

# Static, stripped, version-stamped builds for each router target, one
# file per target in bin/. 32-bit targets use the bbolt store (see README).
# FIRMWARE_TAGS=bbolt puts the 64-bit targets on bbolt too (5.8 MB smaller
# on arm64, see README).
FIRMWARE_TAGS    ?=
FIRMWARE_TARGETS := linux-amd64 linux-arm64 linux-armv7 linux-mipsle
FIRMWARE_BINS    := $(addprefix bin/edgeward-,$(FIRMWARE_TARGETS))

firmware-builds: $(FIRMWARE_BINS)
	$(GO) run ./firmware/cmd/sizes $(FIRMWARE_BINS)

# The same, plus what each module adds to the arm64 build.
firmware-sizes: $(FIRMWARE_BINS)
	$(GO) run ./firmware/cmd/sizes -nm linux/arm64 $(FIRMWARE_BINS)

# Always rebuilt (go build is incremental); the env comes from the name.
.PHONY: $(FIRMWARE_BINS)
bin/edgeward-linux-amd64:  FW_ENV := GOARCH=amd64
bin/edgeward-linux-arm64:  FW_ENV := GOARCH=arm64
bin/edgeward-linux-armv7:  FW_ENV := GOARCH=arm GOARM=7
bin/edgeward-linux-mipsle: FW_ENV := GOARCH=mipsle GOMIPS=softfloat
$(FIRMWARE_BINS):
	CGO_ENABLED=0 GOOS=linux $(FW_ENV) $(GO) build -trimpath -tags '$(FIRMWARE_TAGS)' -ldflags '$(LDFLAGS)' -o $@ ./cmd/edgeward

# OpenWrt packages (.ipk for opkg, .apk for apk) of every router target in
# bin/packages, from bin/edgeward-linux-<target>; a missing binary is built
# first. The version is the latest vX.Y.Z tag, else 0.0.<commit count>.
PKG_TARGETS := amd64 arm64 armv7 mipsle
PKG_VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --abbrev=0 2>/dev/null | sed 's/^v//' | grep . || echo 0.0.$$(git rev-list --count HEAD 2>/dev/null || echo 0))
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)

firmware-packages:
	@for t in $(PKG_TARGETS); do \
		b=bin/edgeward-linux-$$t; \
		case $$t in armv7) e="GOARCH=arm GOARM=7";; mipsle) e="GOARCH=mipsle GOMIPS=softfloat";; *) e="GOARCH=$$t";; esac; \
		[ -f $$b ] || env CGO_ENABLED=0 GOOS=linux $$e $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$b ./cmd/edgeward || exit 1; \
		$(GO) run ./firmware/cmd/mkpkg -binary $$b -goarch $$t -version $(PKG_VERSION) -out bin/packages || exit 1; \
	done

# The bootable test image: Debian's amd64 kernel (fetched with apt) and an
# initramfs with the image's init and the static binary, in bin/image.
# Boot it with qemu as firmware/image/image_test.go does.
firmware-image:
	firmware/image/fetch-kernel.sh firmware/image/build/kernel
	mkdir -p bin/image
	CGO_ENABLED=0 GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/image/edgeward ./cmd/edgeward
	CGO_ENABLED=0 GOARCH=amd64 $(GO) build -trimpath -ldflags '-s -w' -o bin/image/init ./firmware/image/init
	$(GO) run ./firmware/image/mkimage -kernel firmware/image/build/kernel -init bin/image/init \
		-edgeward bin/image/edgeward -out bin/image/initramfs.cpio.gz
	cp -L firmware/image/build/kernel/vmlinuz bin/image/vmlinuz
	@ls -l bin/image

# Everything a router install needs: the builds, their packages and the
# bootable test image.
firmware: firmware-builds firmware-packages firmware-image

clean:
	rm -rf bin
