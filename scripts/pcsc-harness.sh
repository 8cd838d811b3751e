#!/bin/sh
# pcsc-harness.sh start|stop|status — a real pcscd with vsmartcard's vpcd
# driver for card tests (Debian 12, run as root).
#
#   eval "$(scripts/pcsc-harness.sh start)"   # exports JPKIPILOT_TEST_VPCD
#   go test -race -p 1 ./device/... ./pki/...
#   scripts/pcsc-harness.sh stop
#
# start installs pcscd, libpcsclite-dev and vsmartcard-vpcd if missing, stops
# a pcscd left running (by the pid it recorded), starts `pcscd -f` in the
# background, waits up to 20 s until the reader "Virtual PCD 00 00" is
# listed, and prints the export line on stdout (everything else goes to
# stderr). Readers: "Virtual PCD 00 00" on port 35963, "... 00 01" on 35964.
set -eu

DIR=${JPKIPILOT_PCSC_DIR:-/tmp/jpkipilot-pcsc}
PIDFILE=$DIR/pcscd.pid
LOG=$DIR/pcscd.log
LISTER=$DIR/pcsc-list
READER="Virtual PCD 00 00"
PORT=35963
SYSTEM_PIDFILE=/run/pcscd/pcscd.pid # written by pcscd itself

say() { echo "pcsc-harness: $*" >&2; }
die() { say "$*"; exit 1; }

install_packages() {
	missing=""
	for p in pcscd libpcsclite-dev vsmartcard-vpcd; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "need root to install:$missing"
	say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	# shellcheck disable=SC2086
	apt-get install -y $missing >&2
}

# build_lister compiles a 30-line PC/SC client that prints one reader name a
# line: no dependency on opensc or pcsc-tools, only on libpcsclite-dev.
build_lister() {
	[ -x "$LISTER" ] && return 0
	if ! command -v cc >/dev/null 2>&1; then
		# No compiler (cgo tests would need one anyway): opensc-tool -l lists
		# readers too, one per line after a header.
		command -v opensc-tool >/dev/null 2>&1 ||
			die "need a C compiler (cc) or opensc-tool to check the reader list"
		printf '#!/bin/sh\nopensc-tool -l 2>/dev/null | sed -n "s/^[0-9][0-9]*  *[A-Za-z]*  *//p"\n' >"$LISTER"
		chmod +x "$LISTER"
		return 0
	fi
	cat >"$DIR/pcsc-list.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winscard.h>
int main(void) {
	SCARDCONTEXT ctx;
	DWORD n = 0;
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
	if (rv != SCARD_S_SUCCESS) { fprintf(stderr, "%s\n", pcsc_stringify_error(rv)); return 2; }
	rv = SCardListReaders(ctx, NULL, NULL, &n);
	if (rv == SCARD_E_NO_READERS_AVAILABLE) { SCardReleaseContext(ctx); return 1; }
	if (rv != SCARD_S_SUCCESS) { fprintf(stderr, "%s\n", pcsc_stringify_error(rv)); return 2; }
	char *buf = malloc(n);
	if (!buf || SCardListReaders(ctx, NULL, buf, &n) != SCARD_S_SUCCESS) return 2;
	for (char *p = buf; *p; p += strlen(p) + 1) puts(p);
	SCardReleaseContext(ctx);
	return 0;
}
EOF
	flags=$(pkg-config --cflags --libs libpcsclite 2>/dev/null || echo "-I/usr/include/PCSC -lpcsclite")
	# shellcheck disable=SC2086
	cc -o "$LISTER" "$DIR/pcsc-list.c" $flags || die "cannot build the reader lister"
}

stop_pid() { # stop_pid PID: TERM, wait up to 5 s, then KILL
	pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	kill "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
}

is_pcscd() { # is_pcscd PID: the process is a pcscd (not a recycled pid)
	[ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm")" = pcscd ]
}

stop() {
	for f in "$PIDFILE" "$SYSTEM_PIDFILE"; do
		[ -r "$f" ] || continue
		pid=$(cat "$f")
		if [ -n "$pid" ] && is_pcscd "$pid"; then
			say "stopping pcscd (pid $pid)"
			stop_pid "$pid"
		fi
	done
	rm -f "$PIDFILE"
}

start() {
	mkdir -p "$DIR"
	install_packages
	[ -r /etc/reader.conf.d/vpcd ] || die "/etc/reader.conf.d/vpcd missing: is vsmartcard-vpcd installed?"
	build_lister
	stop
	: >"$LOG"
	# pcscd reads /etc/reader.conf.d only at start-up, hence after install.
	pcscd -f >>"$LOG" 2>&1 &
	echo $! >"$PIDFILE"
	i=0
	while :; do
		if "$LISTER" 2>/dev/null | grep -qxF "$READER"; then
			break
		fi
		kill -0 "$(cat "$PIDFILE")" 2>/dev/null || die "pcscd exited; see $LOG"
		i=$((i + 1))
		[ $i -ge 100 ] && die "reader \"$READER\" not listed after 20 s; see $LOG"
		sleep 0.2
	done
	say "pcscd running (pid $(cat "$PIDFILE")), log $LOG"
	echo "export JPKIPILOT_TEST_VPCD=127.0.0.1:$PORT"
}

status() {
	if [ -r "$PIDFILE" ] && is_pcscd "$(cat "$PIDFILE")"; then
		say "pcscd running (pid $(cat "$PIDFILE"))"
		[ -x "$LISTER" ] && "$LISTER" >&2 || true
		return 0
	fi
	say "pcscd not running"
	return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) start ;;
status) status ;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
