#!/usr/bin/env bash
# Debian's chromium, its chromedriver and an emoji font (the assistant's messages are
# full of them) for the staff inbox's browser test (tests/test_handoff.py), installed
# with apt-get when missing.
set -euo pipefail
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null \
  || [ ! -d /usr/share/fonts/truetype/noto ]; then
  echo "Installing chromium chromium-driver fonts-noto-color-emoji (apt-get)..." >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq > /dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver fonts-noto-color-emoji > /dev/null
fi
