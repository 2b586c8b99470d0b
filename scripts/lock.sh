#!/usr/bin/env bash
# Regenerate the hash-pinned lock files from pyproject.toml:
#   requirements.txt      runtime dependencies only (what the Dockerfile installs)
#   requirements-dev.txt  runtime + the `dev` extra (what `make venv` installs)
#
# Usage: make lock            keep existing pins where still valid, add/remove what changed
#        make lock UPGRADE=1  move every pin to the newest allowed release
#
# Resolution is universal (Python >= 3.11, every platform, markers kept) and uses PyPI only:
# the resolver runs with no pip/uv configuration and an environment cleared of PIP_*/UV_*
# variables, so no local index or find-links location can end up in the files or their hashes.
set -euo pipefail

cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
INDEX_URL=https://pypi.org/simple
tools=".cache/lock-tools/uv-${UV_VERSION}"

# The tools below run with no pip.conf and no PIP_*/UV_* variables (PIP_CERT kept: some
# networks need their own CA bundle, which uv reads through SSL_CERT_FILE).
clean_env=(env)
while IFS='=' read -r name _; do
  if [[ "${name}" =~ ^(PIP|UV)_ && "${name}" != PIP_CERT ]]; then
    clean_env+=(-u "${name}")
  fi
done < <(env)
clean_env+=(PIP_CONFIG_FILE=/dev/null)
if [[ -n "${PIP_CERT:-}" && -z "${SSL_CERT_FILE:-}" ]]; then
  clean_env+=("SSL_CERT_FILE=${PIP_CERT}")
fi

if [[ ! -x "${tools}/bin/uv" ]]; then
  echo "lock: installing uv ${UV_VERSION} into ${tools}"
  rm -rf "${tools}"
  python3 -m venv "${tools}"
  "${clean_env[@]}" "${tools}/bin/python" -m pip install --quiet --disable-pip-version-check \
    --index-url "${INDEX_URL}" "uv==${UV_VERSION}"
fi

upgrade=()
if [[ "${UPGRADE:-0}" == "1" ]]; then
  upgrade=(--upgrade)
fi

compile() {
  "${clean_env[@]}" "${tools}/bin/uv" pip compile pyproject.toml \
    --no-config --index-url "${INDEX_URL}" \
    --universal --python-version 3.11 \
    --generate-hashes --quiet \
    --custom-compile-command "make lock" \
    "${upgrade[@]}" "$@"
}

echo "lock: requirements.txt (runtime, for the container image)"
compile --output-file requirements.txt

echo "lock: requirements-dev.txt (runtime + dev tools)"
compile --extra dev --constraint requirements.txt --output-file requirements-dev.txt

if grep -nE '^\s*(-i|--index-url|--extra-index-url|-f|--find-links)\b|file://|/opt/' \
    requirements.txt requirements-dev.txt; then
  echo "lock: a local index or find-links location leaked into the lock files" >&2
  exit 1
fi
echo "lock: done"
