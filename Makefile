# jpkipilot — `make run` sets up a fresh Debian machine and starts the GUI;
# `make test` installs and starts what the tests need and runs them all.
GO      ?= go
TAGS    := migrated_fynedo
BIN     := jpkipilot
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run build deps test bench package screenshots clean

run: build
	./$(BIN) $(ARGS)

deps:
	@scripts/deps.sh build

build: deps
	$(GO) build -tags $(TAGS) -o $(BIN) .

test:
	@scripts/test.sh

# Benchmarks behind the figures in the issue notes (services as in `make test`).
bench:
	@scripts/bench.sh

# A Linux bundle (tar.xz with the binary, icon and .desktop) made by the fyne tool.
package: deps
	$(GO) run fyne.io/tools/cmd/fyne@v1.7.4 package --os linux --release --tags $(TAGS)

# The README's pictures (docs/screenshots/), each script on a private Xvfb
# screen with its own throwaway store; needs xvfb, imagemagick, xdotool
# and sqlite3 (Debian packages of those names).
screenshots: deps
	@scripts/screenshots.sh
	@scripts/screenshots-loans.sh
	@scripts/screenshots-survey.sh

clean:
	rm -f $(BIN) *.tar.xz
