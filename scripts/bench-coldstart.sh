#!/bin/sh
# Cold start of the GUI to its first frame under Xvfb (goal: < 1.5 s).
#
#   scripts/bench-coldstart.sh [N]      (default N=10)
#
# Builds jpkipilot, starts Xvfb :99 unless a display :99 is already up,
# seeds a demo database in a temp dir, then starts the GUI N times with
# JPKIPILOT_EXIT_AFTER_FIRST_FRAME=1: the app prints the time from process
# start to its first painted frame and quits. Prints min and median of that
# figure, and of the wall time from exec to exit measured from outside.
set -eu
N=${1:-10}
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/jpkipilot-coldstart.XXXXXX")
xvfb_pid=
cleanup() {
	[ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "building..." >&2
go build -tags migrated_fynedo -o "$work/jpkipilot" .

export DISPLAY=:99
if ! [ -e /tmp/.X11-unix/X99 ]; then
	Xvfb :99 -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
	xvfb_pid=$!
	i=0
	while ! [ -e /tmp/.X11-unix/X99 ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && { echo "Xvfb did not start" >&2; cat "$work/xvfb.log" >&2; exit 1; }
		sleep 0.1
	done
fi

# A user's first day: a migrated store with the demo data, own config dirs.
export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" JPKIPILOT_DB="$work/bench.db"
"$work/jpkipilot" demo seed >/dev/null 2>"$work/seed.log" || { cat "$work/seed.log" >&2; exit 1; }

: >"$work/frame" ; : >"$work/wall"
i=0
while [ $i -lt "$N" ]; do
	i=$((i + 1))
	t0=$(date +%s.%N)
	out=$(JPKIPILOT_EXIT_AFTER_FIRST_FRAME=1 timeout 30 "$work/jpkipilot" 2>"$work/run.log") || {
		echo "run $i failed:" >&2; cat "$work/run.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	frame=$(printf '%s\n' "$out" | sed -n 's/^first frame after \([0-9.]*\) s$/\1/p')
	[ -n "$frame" ] || { echo "run $i printed no first-frame time: $out" >&2; exit 1; }
	echo "$frame" >>"$work/frame"
	echo "$t1 - $t0" | bc -l >>"$work/wall"
	printf 'run %2d: first frame %.3f s\n' "$i" "$frame" >&2
done

stats() { # min and median of a column of numbers
	sort -n "$1" | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "min %.3f s, median %.3f s", v[1], m}'
}
echo "first frame (in-process, from process start): $(stats "$work/frame") over $N runs"
echo "exec to exit (wall clock, from outside):      $(stats "$work/wall") over $N runs"
