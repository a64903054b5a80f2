# edgeward: the same targets as Taskfile.yml.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/edgeward
DATA     ?= ./data
LISTEN   ?= 127.0.0.1:8080

.PHONY: run build test generate lint bench clean firmware-image

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
bench:
	$(GO) test -run '^$$' -bench . -skip '^BenchmarkWG' -benchmem -count=1 ./...
	$(GO) test -run '^$$' -bench '^BenchmarkWG' -benchtime=1x -count=1 -timeout 20m ./cmd/edgeward/

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

clean:
	rm -rf bin
