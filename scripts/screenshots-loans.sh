#!/bin/sh
# Screenshots of the readers panel and the loans list for the README, in
# docs/screenshots/ (readers.png, loans.png), on the demo data, under Xvfb.
#
# readers.png: M-0008's virtual My Number card held to the in-process
# reader, card check, then the auth PIN entered on the PIN pad (demo PIN):
# tries left, auth certificate, the trace with the PIN bytes redacted.
# PC/SC readers show as they are on this machine (pcscd running or not).
# loans.png: five loans, two of them overdue, one returned with a missing
# charger. The command line has no clock to set, so the two overdue loans
# are back-dated in the demo database with sqlite3 (a picture fixture only).
#
# Needs Xvfb, imagemagick, xdotool and sqlite3 (scripts/screenshots-lib.sh
# starts the screen and the app). Clicks at fixed positions of the
# 1280×800 window: re-check the pictures after layout changes.
. "$(dirname "$0")/screenshots-lib.sh"
command -v sqlite3 >/dev/null || { echo "screenshots-loans.sh needs sqlite3" >&2; exit 1; }

accounts
j demo seed
# Eight phones and eight SIMs with valid IMEI/ICCID check digits.
python3 - "$work/devices.csv" <<'EOF'
import sys
def luhn(s):
    t = 0
    for i, c in enumerate(reversed(s)):
        x = int(c)
        if i % 2 == 0:
            x *= 2
            x -= 9 if x > 9 else 0
        t += x
    return s + str((10 - t % 10) % 10)
rows = ["種別,IMEI,ICCID,キャリア,機種,OS,付属品,アプレット状態,KVN,ENC,MAC,DEK,備考"]
models = [("NTTドコモ", "Xperia X Performance SO-04H", "Android"), ("au", "Galaxy S7 edge SCV33", "Android"),
          ("ソフトバンク", "iPhone 7", "iOS"), ("NTTドコモ", "AQUOS ZETA SH-04H", "Android"),
          ("au", "iPhone 7 Plus", "iOS"), ("MVNO", "ZenFone 3", "Android"),
          ("NTTドコモ", "Xperia XZ SO-01J", "Android"), ("ソフトバンク", "Xperia X Performance", "Android")]
for i, (c, m, o) in enumerate(models):
    rows.append(f"スマートフォン,{luhn('3520990017%04d' % (600 + i))},,{c},{m},{o},ケース,,,,,,")
for i in range(8):
    rows.append(f"SIM,,{luhn('898110100000000%03d' % (100 + i))},docomo,,,,blank,,,,,")
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
EOF
j devices import "$work/devices.csv"
j loans checkout --monitor M-0001 --phone 352099001706007 --sim 8981101000000001009 --staff 田中 --accessories ケース
j loans checkout --monitor M-0002 --phone 352099001706015 --sim 8981101000000001017 --staff 田中
j loans checkout --monitor M-0003 --phone 352099001706023 --sim 8981101000000001025 --staff 佐藤 --accessories ケース,取扱説明書
j loans checkout --monitor M-0004 --phone 352099001706031 --sim 8981101000000001033 --staff 佐藤
j loans checkout --monitor M-0005 --phone 352099001706049 --sim 8981101000000001041 --staff 鈴木
today=$(date -u +%F)
back() { # loan id, days before today it went out, days before today it was due
	went=$(date -u -d "$today -$2 days" +%F) due=$(date -u -d "$today -$3 days" +%F)
	sqlite3 "$db" "UPDATE loans SET out_at = replace(out_at, '$today', '$went'), due_on = '$due' WHERE id = $1;
		UPDATE loan_events SET at = replace(at, '$today', '$went'), due_after = '$due' WHERE loan_id = $1;"
}
back 1 19 5
back 3 16 2
j loans checkin L-0005 --staff 鈴木 --notes "画面に小さな傷" --missing 充電器
j loans extend L-0004 --due "$(date -u -d "$today +21 days" +%F)" --staff 佐藤

start_app
login sato

nav 4                                 # リーダー
click 528 658                         # monitor picker of the virtual card section
typed "m-8"                           # M-0008
click 283 738 30                      # カードをかざす (issues the card: RSA key generation)
click 810 109                         # カードを確認
click 930 109                         # PIN を確認: the PIN pad
for xy in "525 427" "640 427" "755 427" "525 467"; do click $xy; done # 1 2 3 4
click 725 587                         # OK
shot readers
nav 7                                 # 貸出
click 300 189                         # the most overdue loan
shot loans
ls -l "$out/readers.png" "$out/loans.png"
