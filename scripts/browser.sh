#!/usr/bin/env bash
# Debian's chromium and its chromedriver for the staff inbox's browser test
# (tests/test_handoff.py), installed with apt-get when missing.
set -euo pipefail
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null; then
  echo "Installing chromium chromium-driver (apt-get)..." >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq > /dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium chromium-driver > /dev/null
fi
