#!/usr/bin/env bash
# Installs what the switchyard-sync integration tests start on 127.0.0.1:
# lighttpd + lighttpd-mod-openssl (smart HTTP over HTTPS via git http-backend), openssh-server
# (sshd) and openssh-client (ssh).
# Idempotent: a fast no-op when every binary is already present.
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
echo "install-sync-test-deps: installing ${pkgs[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
# the packaged services are not needed: the tests run their own instances
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now lighttpd ssh >/dev/null 2>&1 || true
fi
$SUDO service lighttpd stop >/dev/null 2>&1 || true
$SUDO service ssh stop >/dev/null 2>&1 || true
