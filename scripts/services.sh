# Sourced by test.sh and bench.sh: starts a throwaway PostgreSQL and pcscd
# with the vpcd driver for this shell, and stops them when it exits.
work=$(mktemp -d /tmp/jpkipilot-svc.XXXXXX)
chmod 755 "$work"
stop_services() {
  scripts/pcsc-harness.sh stop >/dev/null 2>&1 || true
  scripts/pg-harness.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop_services EXIT
eval "$(scripts/pg-harness.sh start "$work/pg")"
eval "$(scripts/pcsc-harness.sh start)"
export JPKIPILOT_REQUIRE_SERVICES=1
