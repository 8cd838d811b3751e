# Shared by scripts/screenshots*.sh (sourced, not run): a private Xvfb
# screen of 1280×800, the app built once, a throwaway store and home, and
# helpers that wait for the screen to settle instead of sleeping.
#
# Needs Xvfb, imagemagick (import, convert) and xdotool.
set -eu
cd "$(dirname "$0")/.."
out=docs/screenshots
work=$(mktemp -d "${TMPDIR:-/tmp}/jpkipilot-shots.XXXXXX")
xvfb_pid= app_pid=
cleanup() {
	stop_app
	if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null; wait "$xvfb_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The demo accounts' password (typed into the login form; the CLI reads it
# from standard input). A throwaway store: it protects nothing.
password='Demo-Pass-2017'

for tool in Xvfb import convert compare xdotool; do
	command -v "$tool" >/dev/null || {
		echo "screenshots: $tool is missing (Debian: apt-get install xvfb imagemagick xdotool)" >&2
		exit 1
	}
done

go build -tags migrated_fynedo -o "$work/jpkipilot" .

# A display number nobody uses: Xvfb picks it and writes it to fd 3.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
while ! [ -s "$work/display" ]; do
	kill -0 "$xvfb_pid" 2>/dev/null || { cat "$work/xvfb.log" >&2; exit 1; }
	sleep 0.05
done
export DISPLAY=":$(cat "$work/display")"

mkdir -p "$work/home" "$out"
export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
export JPKIPILOT_TOKEN_FILE="$work/token"
db="$work/demo.db"

# j runs a command of the CLI on the demo store, quietly.
j() { "$work/jpkipilot" --db "$db" "$@" >/dev/null; }

# accounts makes the first coordinator (佐藤 花子, login sato), logs the CLI
# in as her, and adds venue staff and an analyst for the staff page.
accounts() {
	printf '%s\n%s\n' "$password" "$password" | j staff init --login sato --name "佐藤 花子"
	printf '%s\n' "$password" | j login --user sato
	printf '%s\n%s\n' "$password" "$password" | j staff add --login tanaka --role staff --name "田中 一郎"
	printf '%s\n%s\n' "$password" "$password" | j staff add --login suzuki --role staff --name "鈴木 美咲"
	printf '%s\n%s\n' "$password" "$password" | j staff add --login kato --role analyst --name "加藤 誠"
}

# frame FILE: what the screen shows now. same A B: the two frames differ
# in fewer than 200 pixels (a focused entry's blinking cursor is ~50).
frame() { import -window root -depth 8 "$1"; }
same() {
	d=$(compare -metric AE "$1" "$2" null: 2>&1 || true)
	[ "${d%%[!0-9]*}" -lt 200 ] 2>/dev/null
}

# settle waits until the screen has stopped changing (the same picture
# three times, 0.25 s apart): a page loaded, a dialog drawn. A screen that
# keeps changing for 30 s is an error (an animation would make the picture
# depend on timing).
settle() {
	frame "$work/last.miff"
	end=$(($(date +%s) + 30)) steady=0
	while [ "$steady" -lt 2 ]; do
		sleep 0.25
		frame "$work/now.miff"
		if same "$work/now.miff" "$work/last.miff"; then steady=$((steady + 1)); else steady=0; fi
		mv "$work/now.miff" "$work/last.miff"
		if [ "$(date +%s)" -gt "$end" ]; then echo "screenshots: the screen does not settle" >&2; return 1; fi
	done
}

# mark remembers the screen; changed waits (at most ${1:-5} s) for it to
# differ from the mark, then for it to settle: a click that starts work on
# another goroutine shows its result after the click's own repaint. With
# a second argument a screen that did not change is an error (a click that
# missed would otherwise take the wrong picture).
mark() { frame "$work/mark.miff"; }
changed() {
	end=$(($(date +%s) + ${1:-5}))
	while :; do
		frame "$work/now.miff"
		same "$work/now.miff" "$work/mark.miff" || break
		if [ "$(date +%s)" -gt "$end" ]; then
			if [ -n "${2:-}" ]; then echo "screenshots: no $2 within ${1:-5} s" >&2; return 1; fi
			break
		fi
		sleep 0.2
	done
	settle
}

# click x y: a left click at (x, y), then wait until the screen settled.
click() {
	mark
	xdotool mousemove "$1" "$2" click 1
	changed "${3:-5}"
}

# typed TEXT: types ASCII text into the focused field (xdotool's non-ASCII
# typing drops characters: names in Japanese come from the CLI).
typed() { xdotool type --delay 30 "$1"; settle; }

key() { xdotool key "$@"; settle; }

# shot NAME: docs/screenshots/NAME.png, 256 colours, no metadata (and
# recompressed by optipng where it is installed).
shot() {
	import -window root "$work/$1.png"
	convert "$work/$1.png" -strip -colors 256 "PNG8:$out/$1.png"
	if command -v optipng >/dev/null; then optipng -quiet -o2 "$out/$1.png"; fi
}

# start_app [ARGS]: the GUI on the demo store, once its window is drawn.
start_app() {
	"$work/jpkipilot" --db "$db" "$@" >"$work/app.log" 2>&1 &
	app_pid=$!
	xdotool search --sync --onlyvisible --name 'JPKI' >/dev/null
	settle
}

stop_app() {
	if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null || true; fi
	app_pid=
}

# login LOGIN: types the account and the password into the login form.
login() {
	click 685 387 # ログインID
	typed "$1"
	click 670 427 # パスワード
	typed "$password"
	[ -z "${2:-}" ] || shot "$2"
	mark
	xdotool key Return
	changed 10
}

# Navigation rows of the main window for a coordinator (the session bar
# above them): page N's row is at y = 68 + 40.25 N.
nav() { click 70 "$(awk -v n="$1" 'BEGIN { printf "%d", 68 + 40.25 * n }')" "${2:-5}"; }
