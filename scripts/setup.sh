#!/usr/bin/env bash
# Installs what is missing and builds bertforge; sourced by main.sh and test.sh, safe to run again.
#
# - Debian packages through apt-get, only those not yet installed.
# - A Python venv OUTSIDE the clone (BERTFORGE_VENV, default ~/.local/share/bertforge/venv) with LibTorch
#   (the PyPI torch wheel) and the HF libraries used as test oracles; reinstalled only when requirements.txt
#   changes, so a fresh clone or CI run does not download gigabytes again.
# - CMake + Ninja into BERTFORGE_BUILD (default ./build), configured every time, built incrementally;
#   BERTFORGE_CMAKE_ARGS adds CMake arguments (for example -DBERTFORGE_FUZZ=ON with CXX=clang++), and
#   BERTFORGE_TARGETS names the targets to build (default: all of them; main.sh builds bertforge alone).
# Not root: apt-get runs through sudo, and without sudo setup stops, naming the packages to install.
# A user with their own LibTorch sets CMAKE_PREFIX_PATH and BERTFORGE_NO_VENV=1 to skip the venv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${BERTFORGE_VENV:-$HOME/.local/share/bertforge/venv}"
build="${BERTFORGE_BUILD:-$root/build}"

debs=(build-essential cmake ninja-build git python3 python3-venv python3-pip ccache pkg-config
      nlohmann-json3-dev libcli11-dev libutf8proc-dev libgtest-dev libgmock-dev libbenchmark-dev
      libgloo-dev libdnnl-dev clang libclang-rt-dev
      libcairo2-dev fontconfig fonts-dejavu-core zlib1g-dev libgoogle-perftools-dev
      bible-kjv)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A python3 that already has venv (pyenv, a user's own) needs no Debian python.
if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=($(printf '%s\n' "${missing[@]}" | grep -vx -e python3 -e python3-venv -e python3-pip || true))
fi
if ((${#missing[@]})); then
  as_root=()
  if ((EUID != 0)); then
    if ! command -v sudo >/dev/null; then
      echo "setup: needs root (or sudo) to install the Debian packages ${missing[*]}; install them and run again" >&2
      exit 1
    fi
    as_root=(sudo DEBIAN_FRONTEND=noninteractive)
  fi
  echo "setup: installing ${missing[*]}${as_root:+ (through sudo)}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${BERTFORGE_NO_VENV:-0}" != 1 ]]; then
  stamp="$venv/.bertforge-requirements"
  if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup: creating venv $venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
  fi
  if ! cmp -s "$root/requirements.txt" "$stamp"; then
    echo "setup: installing Python requirements into $venv (first run downloads LibTorch)"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -r "$root/requirements.txt"
    cp "$root/requirements.txt" "$stamp"
  fi
  torch_prefix="$("$venv/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
  export CMAKE_PREFIX_PATH="$torch_prefix${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export BERTFORGE_PYTHON="$venv/bin/python"
fi

# Clones in other folders (CI) hit the same ccache entries: paths are hashed relative to the source root.
export CCACHE_BASEDIR="$root"
# nvcc lives outside PATH on a stock CUDA install; CMake decides CUDA or CPU-only from what it finds.
[[ -x /usr/local/cuda/bin/nvcc ]] && export PATH="/usr/local/cuda/bin:$PATH"
# configure_build DIR [CMAKE_ARGS...]: configures DIR every time (quick when nothing changed), so a changed
# venv, build type or option is seen. CMake keeps the compiler and LibTorch's location in its cache: when the
# compiler ($CXX), LibTorch's prefix or the arguments differ from the last configure, DIR starts afresh.
configure_build() {
  local dir="$1"
  shift
  local args=(-G Ninja -DCMAKE_BUILD_TYPE="${BERTFORGE_BUILD_TYPE:-Release}"
              ${BERTFORGE_PYTHON:+-DBERTFORGE_PYTHON="$BERTFORGE_PYTHON"} "$@")
  local cxx="${CXX:-c++}"
  local key
  key="$(printf '%s\n' "$(command -v "$cxx" || echo "$cxx")" "$("$cxx" --version 2>/dev/null | head -1)" \
         "${CMAKE_PREFIX_PATH:-}" "${args[@]}")"
  if [[ -f "$dir/CMakeCache.txt" ]] && ! cmp -s <(printf '%s\n' "$key") "$dir/.bertforge-configure"; then
    echo "setup: the toolchain, LibTorch or build options changed; configuring $dir afresh"
    rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
  fi
  mkdir -p "$dir"
  cmake -S "$root" -B "$dir" "${args[@]}" >/dev/null
  printf '%s\n' "$key" > "$dir/.bertforge-configure"
}
configure_build "$build" ${BERTFORGE_CMAKE_ARGS:-}
cmake --build "$build" ${BERTFORGE_TARGETS:+--target $BERTFORGE_TARGETS}
export BERTFORGE_BIN="$build/bertforge"
