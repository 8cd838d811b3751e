#!/bin/sh
# Screenshots of the questionnaire kiosk and the results page for the
# README, in docs/screenshots/, on the demo data, under a private Xvfb
# screen (scripts/screenshots-lib.sh):
#   kiosk-setup.png    venue staff (tanaka, kiosk PIN set by the
#                      coordinator) choose the monitor and the form
#   kiosk.png          the monitor's 1–5 page of the entry questionnaire
#   results.png        the results page: charts per step
#   results-table.png  further down: the per-question table
#
# Needs Xvfb, imagemagick and xdotool. Clicks at fixed positions of the
# 1280×800 window: re-check the pictures after layout changes.
. "$(dirname "$0")/screenshots-lib.sh"

accounts
printf '%s\n%s\n' 246810 246810 | j staff pin --login tanaka
j demo seed

start_app --kiosk survey
login tanaka
click 700 168                         # 試験
click 400 285                         # チケットレスサービス 実地実証
click 700 208                         # セッション
click 400 364                         # FIELD-ENTRY: step 入場 and its form follow
click 600 289; typed "M-0139"         # モニター: enrolled for FIELD-ENTRY
shot kiosk-setup
click 104 450                         # 開始してモニターに渡す
click 1205 755                        # 次へ
click 200 201                         # マイナンバーカード（PINなし）
click 1205 755                        # 次へ
click 390 200                         # 2 やや不便
shot kiosk
stop_app

start_app
login sato
nav 10                                # 集計・エクスポート
mark; changed 10                      # 集計中… until the tallies are drawn
shot results
xdotool mousemove 700 500 click --repeat 8 --delay 50 5; settle # scroll down
shot results-table
ls -l "$out"/kiosk*.png "$out"/results*.png
