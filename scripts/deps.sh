#!/usr/bin/env bash
# Installs the Debian packages jpkipilot needs, only those missing.
#   scripts/deps.sh build   what building and running the GUI needs
#   scripts/deps.sh test    that, plus what `make test` needs (pcscd + vpcd, PostgreSQL, openssl)
set -euo pipefail
what=${1:-build}
pkgs=(gcc pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev
      libxxf86vm-dev libpcsclite-dev pcscd)
if [ "$what" = test ]; then
  pkgs+=(vsmartcard-vpcd postgresql openssl opensc)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
