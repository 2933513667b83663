#!/usr/bin/env bash
# One-time machine setup for the installer suites (test/installer): they run as root and create a real unprivileged
# user, a sudoers entry, tmpfs and bind mounts, and inject SIGKILL with strace. Idempotent; skips apt when all is there.
set -euo pipefail
need=()
command -v sudo >/dev/null || need+=(sudo)
command -v visudo >/dev/null || need+=(sudo)
command -v strace >/dev/null || need+=(strace)
command -v script >/dev/null || need+=(bsdutils)
command -v runuser >/dev/null || need+=(util-linux)
command -v useradd >/dev/null || need+=(passwd)
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# sudo must read /etc/sudoers.d, where the tests put (and remove) their entry.
grep -qE '^[@#]includedir /etc/sudoers.d' /etc/sudoers || echo '@includedir /etc/sudoers.d' >> /etc/sudoers
visudo -c -q
# Leftovers of an interrupted earlier run: test users and their sudoers entries.
for f in /etc/sudoers.d/lockstep-test-*; do [ -e "$f" ] && rm -f "$f"; done
for u in $(awk -F: '/^lsu[0-9a-f]{8}:/ {print $1}' /etc/passwd); do userdel --force "$u" 2>/dev/null || true; done
echo "installer test prerequisites ready"
