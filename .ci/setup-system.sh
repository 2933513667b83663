#!/usr/bin/env bash
# Debian packages the test suites need. Skips apt entirely when everything is present already.
set -euo pipefail
need=()
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
dpkg -s libsecret-1-dev >/dev/null 2>&1 || need+=(libsecret-1-dev)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v dbus-run-session >/dev/null || need+=(dbus dbus-x11)
command -v sudo >/dev/null || need+=(sudo)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
command -v chromium >/dev/null || need+=(chromium)
# The delta benchmark packs zip and AppImage squashfs images beside tar.gz (its tests pack small ones too).
command -v zip >/dev/null || need+=(zip)
command -v mksquashfs >/dev/null || need+=(squashfs-tools)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "system packages ready"
