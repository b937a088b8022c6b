#!/usr/bin/env bash
# System packages the tests use, from Debian: Chromium for the review desk's browser tests and
# CJK fonts for the rendered road scenes (公交专用) and evidence captions. Installed only when
# missing and when this user may run apt-get; otherwise the tests that need them say so.
set -euo pipefail
want=()
[ -x /usr/bin/chromium ] || want+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || want+=(fonts-noto-cjk)
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing ${want[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${want[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${want[@]}" >/dev/null; }
else
  echo "note: ${want[*]} missing and apt-get not usable; the tests needing them will skip or fail" >&2
fi
