#!/usr/bin/env bash
# Finds Chromium for the browser tests and prints its path; installs Debian's package only when
# none is found. Order: $CHROMIUM (or $CHROMIUM_BIN) when set, `chromium` / `chromium-browser`
# on PATH, /usr/bin/chromium, then `apt-get install chromium` as root (or through `sudo -n`).
# Without root or passwordless sudo it says what to do and exits 1; it never asks for a password.
set -euo pipefail

want="${CHROMIUM:-${CHROMIUM_BIN:-}}"
if [[ -n "$want" ]]; then
  if [[ -x "$want" ]]; then
    echo "$want"
    exit 0
  fi
  echo "install-chromium: CHROMIUM=$want is not an executable file" >&2
  exit 1
fi

find_chromium() {
  command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null ||
    { [[ -x /usr/bin/chromium ]] && echo /usr/bin/chromium; }
}

if found=$(find_chromium); then
  echo "$found"
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  cat >&2 <<'MSG'
install-chromium: Chromium is not installed, and installing it needs root (no passwordless sudo).
  Install it yourself (Debian/Ubuntu: `sudo apt-get install chromium`), or point the tests at
  an existing binary: CHROMIUM=/path/to/chromium ./scripts/test.sh
MSG
  exit 1
fi
echo "install-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq >/dev/null
"${as_root[@]}" apt-get install -y -qq chromium >/dev/null
found=$(find_chromium) || { echo "install-chromium: apt-get installed chromium, but no binary was found" >&2; exit 1; }
echo "$found"
