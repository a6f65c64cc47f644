#!/usr/bin/env bash
# Install the Debian packages the local stack and the tests need, when they are missing.
#
#   scripts/system-packages.sh test   Java 17 + npm (DynamoDB Local), chromium + fonts (browser tests)
#   scripts/system-packages.sh run    Java 17 + npm (make run)
#
# Called by `make test`, `make run` and `.ci/run`. Installs through apt-get as root, or through
# `sudo -n` otherwise; when it cannot install (no root, no password-less sudo, no apt-get, or
# SYSTEM_PACKAGES_INSTALL=0), it stops at once with the exact command to run.
# CHROMIUM_PATH names another Chromium binary (as the browser tests read it).
set -euo pipefail

purpose=${1:-test}
case "$purpose" in
  test | run) ;;
  *)
    echo "usage: $0 [test|run]" >&2
    exit 2
    ;;
esac

java_17() {
  command -v java >/dev/null 2>&1 || return 1
  local version major
  version=$(java -version 2>&1 | head -n 1)
  major=$(sed -E 's/^[^"]*"([0-9]+).*/\1/' <<<"$version")
  [[ "$major" =~ ^[0-9]+$ ]] && ((major >= 17))
}

fonts_present() {
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && return 0
  command -v fc-list >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi dejavu
}

need=()
java_17 || need+=(openjdk-17-jre-headless)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ "$purpose" = test ]; then
  command -v "${CHROMIUM_PATH:-chromium}" >/dev/null 2>&1 || need+=(chromium)
  fonts_present || need+=(fonts-dejavu-core)
fi
[ ${#need[@]} -eq 0 ] && exit 0

cannot() {
  echo "error: missing system packages for make $purpose: ${need[*]}" >&2
  echo "  $1; install them with:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
}

if [ "${SYSTEM_PACKAGES_INSTALL:-1}" = 0 ]; then
  cannot "SYSTEM_PACKAGES_INSTALL=0 forbids installing them here"
fi
if ! command -v apt-get >/dev/null 2>&1; then
  cannot "apt-get was not found (this script knows Debian and Ubuntu)"
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n env DEBIAN_FRONTEND=noninteractive)
else
  cannot "not root and no password-less sudo"
fi

echo "Installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get update -qq || ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  cannot "apt-get failed"
fi
