#!/usr/bin/env bash
# Get the action's image and run it the way the GitHub runner runs a container action (same
# mounts, working directory, file-command files and INPUT_* variables), against the API
# simulator on this host, then check the outputs file by the runner's rules and print the time
# from the start (of the build or the pull) to the first API request the simulator received:
# what a job pays before the action does anything.
# Needs a Docker engine, python3 and the runtime packages of requirements.txt (for PyYAML).
# The only difference from the runner: `--network host`, so that the container reaches the
# simulator on 127.0.0.1 (the action accepts plain http only for loopback hosts).
#
#   IMAGE=name:tag     the image to build and run (default capwrapper-action:ci)
#   PULL=ref@digest    pull this image instead of building (as a job using a release does)
#   BUILD=0            run IMAGE as it is, already built or loaded
#   PLATFORM=os/arch   build, pull and run for this platform (another one runs under QEMU)
set -euo pipefail
cd "$(dirname "$0")/.."

image=${PULL:-${IMAGE:-capwrapper-action:ci}}
port=${SIM_PORT:-8080}
platform=(${PLATFORM:+--platform "${PLATFORM}"})
work=$(mktemp -d)
sim_pid=
watch_pid=
cleanup() {
  if [[ -n "${watch_pid}" ]]; then kill "${watch_pid}" 2>/dev/null || true; fi
  if [[ -n "${sim_pid}" ]]; then kill "${sim_pid}" 2>/dev/null || true; fi
  rm -rf "${work}" 2>/dev/null || true  # the container, as root, may leave files we cannot remove
}
trap cleanup EXIT
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

echo "==> simulator on 127.0.0.1:${port} (logging every request)"
python3 -m capwrapper_simulator --port "${port}" --queue-seconds 1 --build-seconds 3 --verbose \
  >"${work}/simulator.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then break; fi
  sleep 0.1
done
# The time of the first request line in the simulator's log, to within 50 ms.
( until grep -qE '"(GET|POST|PUT|PATCH|DELETE) /' "${work}/simulator.log"; do sleep 0.05; done
  now >"${work}/first-request" ) &
watch_pid=$!

started=$(now)
if [[ -n "${PULL:-}" ]]; then
  echo "==> docker pull ${image}"
  docker pull "${platform[@]}" "${image}"
elif [[ "${BUILD:-1}" != 0 ]]; then
  echo "==> docker build --tag ${image} ."
  docker build "${platform[@]}" --tag "${image}" .
fi
ready=$(now)

echo "==> the runner's layout"
mkdir -p "${work}"/{workspace,home,runner_temp,workflow,file_commands}
for f in set_output step_summary set_env save_state add_path; do : >"${work}/file_commands/${f}"; done
python3 scripts/container_check.py event-file "${work}/workflow/event.json"
python3 scripts/container_check.py env-file "${work}/env" \
  api-key=sim-key "api-url=http://127.0.0.1:${port}/v1" \
  app-url=https://shop.example.com app-name=Shop bundle-id=com.example.shop \
  poll-interval=1 timeout=2m

echo "==> docker run"
status=0
run_started=$(now)
docker run --rm "${platform[@]}" --network host --workdir /github/workspace --env-file "${work}/env" \
  -v "${work}/workspace:/github/workspace" \
  -v "${work}/home:/github/home" \
  -v "${work}/runner_temp:/github/runner_temp" \
  -v "${work}/workflow:/github/workflow" \
  -v "${work}/file_commands:/github/file_commands" \
  "${image}" || status=$?
echo "container exit status: ${status}"

echo "==> step summary"
cat "${work}/file_commands/step_summary"
echo "==> outputs"
python3 scripts/container_check.py outputs "${work}/file_commands/set_output" \
  status=success android-status=success ios-status=success android-build-id ios-build-id \
  android-download-url ios-download-url version=1.0.0 deployed=false

if [[ -s "${work}/first-request" ]]; then
  first=$(cat "${work}/first-request")
  how=$([[ -n "${PULL:-}" ]] && echo "docker pull" || echo "docker build")
  [[ -n "${PULL:-}" || "${BUILD:-1}" != 0 ]] || how="image present"
  line="time to first request: $(seconds "${started}" "${first}") s (${how} $(seconds "${started}" "${ready}") s, docker run to first request $(seconds "${run_started}" "${first}") s) on ${PLATFORM:-the host platform}"
  echo "==> ${line}"
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then echo "- ${line}" >>"${GITHUB_STEP_SUMMARY}"; fi
else
  echo "==> the simulator received no request"
fi
if [[ ${status} -ne 0 ]]; then
  echo "==> simulator log"; cat "${work}/simulator.log"
  exit "${status}"
fi
