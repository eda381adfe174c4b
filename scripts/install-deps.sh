#!/usr/bin/env bash
# Installs the Debian packages smsx builds and tests with, only those that are missing.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config clang-format python3
          libuv1-dev libsimdjson-dev libmimalloc-dev libabsl-dev libtomlplusplus-dev
          libbenchmark-dev libgtest-dev libgmock-dev
          libhttp-parser-dev libhiredis-dev redis-server gnuplot-nox wrk curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi
