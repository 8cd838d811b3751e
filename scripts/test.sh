#!/usr/bin/env bash
# `make test`: installs what the tests need, starts a throwaway PostgreSQL and
# pcscd with the vsmartcard vpcd driver, then runs vet and every test. Nothing
# skips: JPKIPILOT_REQUIRE_SERVICES=1 turns a missing service into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -tags=migrated_fynedo"

scripts/deps.sh test

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$bad" ]; then echo "gofmt needed: $bad"; exit 1; fi

echo "== services"
. scripts/services.sh

echo "== go vet"
go vet ./...

# Packages whose tests hold a vpcd reader run one at a time (two readers,
# two ports): the ones that use the test pcscd, found by what they read.
card_pkgs=$(go list $(git grep -l -e vpcdtest -e JPKIPILOT_TEST_VPCD -- '*_test.go' | xargs -n1 dirname | sort -u | sed 's#^#./#') ./device/...)
gui_pkgs=$(go list ./screens/... ./app)
other_pkgs=$(go list ./... | grep -vxF -f <(printf '%s\n' $card_pkgs $gui_pkgs))

echo "== go test -race (store, trial, pki, survey)"
go test -race -count=1 -timeout 20m $other_pkgs
echo "== go test -race -p 1 (card path through pcscd + vpcd)"
go test -race -count=1 -timeout 20m -p 1 $(printf '%s\n' $card_pkgs | sort -u | grep -vxF -f <(printf '%s\n' $gui_pkgs))
echo "== screen tests (fyne test driver, no cgo)"
# Without migrated_fynedo: Fyne's test driver runs fyne.Do on the calling
# worker goroutine, and the migrated build's caches assume one UI goroutine
# (plain maps). The app itself is built and run with the tag.
CGO_ENABLED=0 GOFLAGS= go test -count=1 -timeout 20m ./screens/...
echo "== app (GUI composition, cgo)"
go test -count=1 ./app
