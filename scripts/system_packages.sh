#!/usr/bin/env bash
# Install the Debian packages named as arguments that are missing: `make run` and `make test` call this first.
#
# Silent when nothing is missing. Missing packages are installed with apt-get, directly when running as root, through
# `sudo -n` otherwise; when neither works it stops with one line naming the packages and the command to run.
# Without dpkg-query (not Debian) it names the packages on one line and goes on: install their equivalents yourself.
set -euo pipefail

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "Not a Debian system (no dpkg-query): make sure the equivalents of these are installed: $*" >&2
  exit 0
fi

missing=()
for package in "$@"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "Missing Debian packages: ${missing[*]}. Install them as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "Installing the missing Debian packages${as_root:+ with sudo}: ${missing[*]}" >&2
# Another apt run (unattended upgrades) may hold the lock for a while: wait for it rather than fail.
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600)
"${apt[@]}" update
"${apt[@]}" install -y --no-install-recommends "${missing[@]}"
