#!/usr/bin/env bash
# `make bench`: the benchmarks behind the figures in the issue notes, with the
# same services as `make test`. Results go to stdout and bench.out.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -tags=migrated_fynedo"
scripts/deps.sh test
. scripts/services.sh
{
  go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1x}" ./trial ./trial/store/... ./survey/... ./pki ./pki/scp03 ./screens
  go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1x}" -p 1 ./device/... ./pki/jpki/... ./trial/provision/...
  [ -x scripts/bench-coldstart.sh ] && scripts/bench-coldstart.sh
} 2>&1 | tee bench.out
