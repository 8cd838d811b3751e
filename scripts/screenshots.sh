#!/bin/sh
# Screenshots of the main screens for the README, in docs/screenshots/:
# dashboard, monitors (filtered, a withdrawn monitor selected), import
# errors and settings (connection test), on the demo data, under Xvfb.
#
# Needs Xvfb, imagemagick (import) and xdotool. Clicks at fixed positions
# of the 1280×800 window: re-check the pictures after layout changes.
set -eu
cd "$(dirname "$0")/.."
out=docs/screenshots
work=$(mktemp -d "${TMPDIR:-/tmp}/jpkipilot-shots.XXXXXX")
xvfb_pid= app_pid=
cleanup() {
	if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null || true; fi
	if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null; wait "$xvfb_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

go build -tags migrated_fynedo -o "$work/jpkipilot" .
export DISPLAY=:99
if ! [ -e /tmp/.X11-unix/X99 ]; then
	Xvfb :99 -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
	xvfb_pid=$!
	while ! [ -e /tmp/.X11-unix/X99 ]; do sleep 0.1; done
fi
xset r off 2>/dev/null || true # no key repeat: xdotool types each key once

mkdir -p "$work/home" "$out"
export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
db="$work/demo.db"
"$work/jpkipilot" --db "$db" demo seed >/dev/null 2>&1
# A roster with one problem of each common kind, for the import screen.
printf '%s\n' '氏名,フリガナ,年代,連絡先,セッション' \
	'山田 太郎,ヤマダ タロウ,30s,taro@example.jp,VENUE-1' \
	',スズキ ハナコ,40s,hanako@example.jp,VENUE-1' \
	'佐藤 次郎,sato jiro,50s,,VENUE-1' \
	'田中 三郎,タナカ サブロウ,20s,,VENUE-9' \
	'山田 太郎,ヤマダ タロウ,30s,taro@example.jp,VENUE-1' >"$HOME/monitors-bad.csv"

"$work/jpkipilot" --db "$db" >"$work/app.log" 2>&1 &
app_pid=$!
sleep 3
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-1.5}"; }
shot() { import -window root "$work/$1.png" && convert "$work/$1.png" -strip -colors 256 "PNG8:$out/$1.png"; }

shot dashboard
click 70 104                          # モニター
click 400 63 0.3; xdotool type --delay 40 "M-003"; sleep 1
click 400 426                         # M-0037, withdrawn in the demo data
shot monitors
click 70 144                          # インポート
click 320 164                         # file dialog, opens in $HOME
click 485 240 0.5                     # monitors-bad.csv
click 1042 679 2                      # 開く
shot import-errors
click 70 224                          # 設定
click 700 144 0.3; xdotool type --delay 30 "$db"
click 1232 144 2                      # 接続テスト
shot settings
ls -l "$out"
