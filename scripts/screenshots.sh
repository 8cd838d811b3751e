#!/bin/sh
# Screenshots of the main window for the README, in docs/screenshots/, on
# the demo data, under a private Xvfb screen (scripts/screenshots-lib.sh):
#   first-run.png      an empty store asks for the first coordinator
#   login.png          later starts ask for a login
#   dashboard.png      the session bar above the pages, the dashboard
#   monitors.png       monitors filtered, a withdrawn monitor selected
#   import-errors.png  a roster with one problem of each common kind
#   staff.png          staff accounts, a venue staff account selected
#   settings.png       settings after a connection test
#   lock.png           the inactivity lock (set to one minute in settings,
#                      which takes effect at the next login)
#
# Needs Xvfb, imagemagick and xdotool. Clicks at fixed positions of the
# 1280×800 window: re-check the pictures after layout changes.
. "$(dirname "$0")/screenshots-lib.sh"

# The first start: no accounts yet.
start_app
shot first-run
stop_app

accounts
j demo seed
# A roster with one problem of each common kind, for the import screen.
printf '%s\n' '氏名,フリガナ,年代,連絡先,セッション' \
	'山田 太郎,ヤマダ タロウ,30s,taro@example.jp,VENUE-1' \
	',スズキ ハナコ,40s,hanako@example.jp,VENUE-1' \
	'佐藤 次郎,sato jiro,50s,,VENUE-1' \
	'田中 三郎,タナカ サブロウ,20s,,VENUE-9' \
	'山田 太郎,ヤマダ タロウ,30s,taro@example.jp,VENUE-1' >"$HOME/monitors-bad.csv"

start_app
login sato login
shot dashboard

nav 2                                 # モニター
click 400 108; typed "M-003"
click 400 471                         # M-0037, withdrawn in the demo data
shot monitors

nav 3                                 # インポート
click 324 208                         # file dialog, opens in $HOME
click 485 240                         # monitors-bad.csv
click 1042 679                        # 開く
shot import-errors

nav 13                                # スタッフ
click 400 270                         # tanaka (venue staff)
shot staff

nav 15                                # 設定
click 800 189; typed "$db"
click 1232 189                        # 接続テスト
shot settings
click 800 564; key ctrl+a; typed 1    # 画面ロック（分）: one minute
click 1220 645                        # 設定を保存
click 640 439                         # OK

click 1220 22                         # ログアウト
login sato
# No input now: the lock comes after a minute (its clock checks every few
# seconds), which is the wait's only long part.
mark
changed 90 "lock screen"
shot lock
ls -l "$out"
