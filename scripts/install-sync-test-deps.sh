#!/usr/bin/env bash
# Installs what the switchyard-sync integration tests start on 127.0.0.1:
# lighttpd + lighttpd-mod-openssl (smart HTTP over HTTPS via git http-backend), openssh-server
# (sshd) and openssh-client (ssh), git and openssl.
# Idempotent: a fast no-op when every binary is already present. The tests start their own
# lighttpd and sshd on their own ports with their own configuration, so this script never
# starts, stops or disables a system service. Installing needs root or passwordless sudo;
# without either it names the missing packages and exits 1.
set -euo pipefail

missing=()
command -v lighttpd >/dev/null 2>&1 || [ -x /usr/sbin/lighttpd ] || missing+=(lighttpd)
# Debian ships lighttpd's TLS module separately
[ -e /usr/lib/lighttpd/mod_openssl.so ] || missing+=(lighttpd-mod-openssl)
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || missing+=(openssh-server)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

# dedupe
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "install-sync-test-deps: missing ${pkgs[*]}; installing them needs root (no passwordless sudo)." >&2
  echo "  Debian/Ubuntu: sudo apt-get install --no-install-recommends ${pkgs[*]}" >&2
  exit 1
fi
echo "install-sync-test-deps: installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
