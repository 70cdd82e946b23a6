# make run      set up, build and run the whole pipeline (out/ holds the results)
# make test     set up and run every test
# make install  build and copy bin/siamese to $(PREFIX)/bin (/usr/local/bin; PREFIX=$HOME/.local without root)
GO      ?= go
BIN     := bin/siamese
TAGS    ?= $(shell scripts/blas-tags.sh)
OPENBLAS = $(shell scripts/blas-tags.sh --available)
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

PREFIX  ?= /usr/local

.PHONY: all build run test bench lint clean fuzz install uninstall docs mutate

all: build

build:
	$(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/siamese

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/siamese
	@echo "installed $(DESTDIR)$(PREFIX)/bin/siamese"
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "note: $(PREFIX)/bin is not on PATH: export PATH=\"$(PREFIX)/bin:\$$PATH\"";; esac

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/siamese

run:
	scripts/setup.sh run
	$(MAKE) build
	$(BIN) run

test:
	scripts/setup.sh test
	$(GO) vet ./...
	mkdir -p test-output
	REPORT_SCREENSHOT=$(CURDIR)/test-output/report.png $(GO) test -count=1 ./...
	@if [ -n "$(OPENBLAS)" ]; then echo "go test -tags openblas (the OpenBLAS build)"; \
	  $(GO) test -count=1 -tags openblas ./blas/ ./model/; fi

bench:
	scripts/setup.sh bench
	$(MAKE) build
	/usr/bin/python3 bench/bench.py
	/usr/bin/python3 bench/score.py

# make docs   rerun the runs whose numbers README.md and docs/ quote (the full default run, as make run,
#             and a small one), record their output in docs/generated/ and rewrite the pages' marked blocks
docs:
	scripts/setup.sh run
	$(MAKE) build
	$(GO) run ./internal/docs/gen -bin $(BIN) -build "$(if $(filter openblas,$(TAGS)),OpenBLAS build,pure-Go build)"

# make fuzz   run each fuzz target for FUZZTIME (make test runs their seed corpora)
FUZZTIME ?= 30s
FUZZ_TARGETS := artifacts:FuzzReadNPY artifacts:FuzzReadIDX artifacts:FuzzReadArrow pipeline:FuzzParse \
	pipeline:FuzzSet sweep:FuzzParseAxis runner:FuzzReadRecord history:FuzzRunRecord model:FuzzLoadCheckpoint imageio:FuzzDecode
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t#*:}; \
	  echo "== $$fn (./$$pkg) for $(FUZZTIME)"; \
	  $(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s; done

# make mutate   mutation test of the packages whose mistakes cost users most
# (docs/testing.md): at most MUTATE_MAX mutants per package, each tested
# with the package's short tests; kill rates and the surviving mutants,
# each with its reason, go to bench/results/mutants.txt
MUTATE_MAX ?= 20
mutate:
	$(GO) run ./internal/mutate/cmd/mutate -max $(MUTATE_MAX) -o bench/results/mutants.txt \
	  -reasons bench/mutants-reasons.txt $(MUTATE_PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...

clean: build
	$(BIN) clean
	rm -rf bin test-output
