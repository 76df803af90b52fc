#!/usr/bin/env bash
# Build the modelfleet container image and prove that it works.
#
# Designed for CI machines that have no Docker engine running and may have no image registry in reach:
#   * installs docker.io (and mmdebstrap when needed) with apt, only if missing;
#   * starts a private dockerd in a temporary folder and always stops it and cleans up on exit;
#   * pulls the base image (python:3.11-slim) if a registry is reachable, otherwise builds a local
#     stand-in of that name from Debian packages (Debian's Python 3.11) with mmdebstrap;
#   * builds the image from the repository root, then checks that it runs as a numeric non-root user,
#     that `churn train` and `churn score` print one JSON object each with the store mounted as a volume,
#     that train built the compiled library and score's compiled engine uses it, that `--help` works, that
#     /app/manifest.json (written at build) is what `manifest` prints, and
#     that training also works on a read-only root filesystem;
#   * builds the scoring-only image (`--target score`): no C compiler, and it scores with that library.
#
# Usage: .ci/docker.sh            (root, or a user with sudo)
# Environment (all optional):
#   MODELFLEET_IMAGE      tag for the built image                  (default modelfleet:ci)
#   MODELS                extras to install: all, churn, churn,ltv  (default all)
#   PYTHON_IMAGE          base image the Dockerfile builds FROM     (default python:3.11-slim)
#   PULL_TIMEOUT          seconds to wait for `docker pull`         (default 20)
#   STANDIN_SUITE         Debian suite of the stand-in base         (default bookworm: Python 3.11)
#   DEBIAN_MIRROR         mirror for the stand-in base              (default: from the host's apt sources)
#   MODELFLEET_CI_CACHE   folder caching the stand-in base tarball, or "off"
#                         (default ${XDG_CACHE_HOME:-$HOME/.cache}/modelfleet-ci)
#   KEEP_WORKDIR=1        keep the temporary folder (dockerd log, build log, store) for debugging
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "${SCRIPT_DIR}/.." && pwd)

IMAGE=${MODELFLEET_IMAGE:-modelfleet:ci}
MODELS=${MODELS:-all}
BASE_IMAGE=${PYTHON_IMAGE:-python:3.11-slim}
PULL_TIMEOUT=${PULL_TIMEOUT:-20}
STANDIN_SUITE=${STANDIN_SUITE:-bookworm}
CACHE_DIR=${MODELFLEET_CI_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/modelfleet-ci}
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# The client from Debian's docker.io: it drives BuildKit without needing the buildx plugin.
DOCKER_BIN=/usr/bin/docker

START_SECONDS=${SECONDS}
FAILURES=0
SUMMARY=()

log() { printf '[docker.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
pass() { SUMMARY+=("PASS  $*"); log "PASS  $*"; }
fail() { SUMMARY+=("FAIL  $*"); log "FAIL  $*"; FAILURES=$((FAILURES + 1)); }

as_root() {
    if [[ ${EUID} -eq 0 ]]; then
        "$@"
    elif command -v sudo > /dev/null 2>&1; then
        sudo -- "$@"
    else
        die "needs root (or sudo) to run: $*"
    fi
}

docker() { "${DOCKER_BIN}" "$@"; }

# ------------------------------------------------------------------------------------------------------
# Tools
# ------------------------------------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "${pkg}" 2> /dev/null | grep -q 'install ok installed' || missing+=("${pkg}")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    log "installing with apt: ${missing[*]}"
    if [[ ${APT_UPDATED} -eq 0 ]]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    # No service is started by the package on these machines; the script runs its own dockerd below.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
}

step_tools() {
    command -v apt-get > /dev/null || die "apt-get not found: this script expects a Debian-based CI machine"
    local need=()
    [[ -x ${DOCKER_BIN} ]] && command -v dockerd > /dev/null || need+=(docker.io)
    command -v python3 > /dev/null || need+=(python3)
    [[ ${#need[@]} -eq 0 ]] || apt_install "${need[@]}"
    log "docker client: $("${DOCKER_BIN}" --version)"
}

# ------------------------------------------------------------------------------------------------------
# A private dockerd, always stopped and cleaned up on exit
# ------------------------------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/modelfleet-docker.XXXXXX")
DOCKERD_PID=""

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    # $! may be a subshell or sudo wrapping dockerd: prefer the PID dockerd wrote itself.
    if [[ -s ${WORK}/dockerd.pid ]]; then
        DOCKERD_PID=$(cat "${WORK}/dockerd.pid")
    fi
    if [[ -n ${DOCKERD_PID} ]] && kill -0 "${DOCKERD_PID}" 2> /dev/null; then
        log "stopping dockerd (pid ${DOCKERD_PID})"
        as_root kill -TERM "${DOCKERD_PID}" 2> /dev/null
        for _ in $(seq 1 60); do
            kill -0 "${DOCKERD_PID}" 2> /dev/null || break
            sleep 0.5
        done
        if kill -0 "${DOCKERD_PID}" 2> /dev/null; then
            log "dockerd did not stop in 30 s: killing it"
            as_root kill -KILL "${DOCKERD_PID}" 2> /dev/null
        fi
    fi
    wait 2> /dev/null
    # Leftover mounts under the temporary folder (netns/default, overlays of killed containers), deepest first.
    local mnt
    while read -r mnt; do
        [[ -n ${mnt} ]] && as_root umount -l "${mnt}" 2> /dev/null
    done < <(awk -v w="${WORK}/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
    if [[ ${KEEP_WORKDIR:-0} == 1 ]]; then
        log "kept ${WORK}"
    else
        as_root rm -rf -- "${WORK}"
    fi
    exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step_dockerd() {
    mkdir -p "${WORK}/data" "${WORK}/exec"
    echo '{}' > "${WORK}/daemon.json"
    local sock="${WORK}/docker.sock"
    # Its own data root, exec root, socket and (empty) config, so it never touches a system engine.
    # No bridge and no iptables: these machines cannot set them up; builds use the host network and the
    # test containers run with --network=none.
    as_root dockerd \
        --config-file "${WORK}/daemon.json" \
        --data-root "${WORK}/data" \
        --exec-root "${WORK}/exec" \
        --pidfile "${WORK}/dockerd.pid" \
        -H "unix://${sock}" \
        --iptables=false --ip6tables=false --bridge=none \
        > "${WORK}/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    export DOCKER_HOST="unix://${sock}"
    local i
    for i in $(seq 1 120); do
        if docker info > /dev/null 2>&1; then
            log "dockerd ready after $((i / 4)) s (pid ${DOCKERD_PID}, ${DOCKER_HOST})"
            return 0
        fi
        kill -0 "${DOCKERD_PID}" 2> /dev/null || break
        sleep 0.25
    done
    tail -n 30 "${WORK}/dockerd.log" >&2 || true
    die "dockerd did not start"
}

# ------------------------------------------------------------------------------------------------------
# Base image: pull it, or build a stand-in of the same name from Debian packages
# ------------------------------------------------------------------------------------------------------
debian_mirror() {
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then
        echo "${DEBIAN_MIRROR}"
        return
    fi
    local uri=""
    if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
        uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z ${uri} && -r /etc/apt/sources.list ]]; then
        uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

build_standin_tarball() {
    local out=$1 mirror=$2
    apt_install mmdebstrap
    log "building a stand-in ${BASE_IMAGE} from Debian ${STANDIN_SUITE} (${mirror}) with mmdebstrap"
    # The host's CA bundle goes in so that pip and uv inside the build trust the same roots as the host
    # (outbound HTTPS may be intercepted by a proxy whose CA only the host knows). It is also placed in
    # /usr/local/share/ca-certificates so that a later update-ca-certificates keeps it.
    # shellcheck disable=SC2016 # "$1" (the new root) is expanded by the hook's shell, not here
    as_root mmdebstrap --quiet --variant=minbase --format=tar \
        --include=python3,python3-pip,python3-venv,ca-certificates \
        --customize-hook="cp '${HOST_CA_BUNDLE}' \"\$1/etc/ssl/certs/ca-certificates.crt\"" \
        --customize-hook="cp '${HOST_CA_BUNDLE}' \"\$1/usr/local/share/ca-certificates/ci-host-bundle.crt\"" \
        --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
        --customize-hook='ln -sf /usr/bin/python3 "$1/usr/local/bin/python"' \
        --customize-hook='ln -sf /usr/bin/python3 "$1/usr/local/bin/python3"' \
        --customize-hook='ln -sf /usr/bin/pip3 "$1/usr/local/bin/pip"' \
        "${STANDIN_SUITE}" "${out}" "${mirror}"
}

step_base_image() {
    if docker image inspect "${BASE_IMAGE}" > /dev/null 2>&1; then
        pass "base image ${BASE_IMAGE} already present"
        return
    fi
    log "trying: docker pull ${BASE_IMAGE} (timeout ${PULL_TIMEOUT} s)"
    if timeout "${PULL_TIMEOUT}" "${DOCKER_BIN}" pull -q "${BASE_IMAGE}" > "${WORK}/pull.log" 2>&1; then
        pass "base image ${BASE_IMAGE} pulled from its registry"
        return
    fi
    log "pull failed: $(tail -n 1 "${WORK}/pull.log")"

    local mirror key tarball
    mirror=$(debian_mirror)
    # The cache key covers everything that goes into the tarball; the ISO week makes it refresh weekly.
    key=$(
        {
            echo "v1 ${STANDIN_SUITE} ${mirror} $(date +%G-W%V)"
            sha256sum "${HOST_CA_BUNDLE}" "${BASH_SOURCE[0]}"
        } | sha256sum | cut -c1-16
    )
    if [[ ${CACHE_DIR} == off ]]; then
        tarball="${WORK}/standin.tar"
        build_standin_tarball "${tarball}" "${mirror}"
    else
        mkdir -p "${CACHE_DIR}"
        tarball="${CACHE_DIR}/python-standin-${STANDIN_SUITE}-${key}.tar"
        if [[ -s ${tarball} ]]; then
            log "using cached stand-in tarball ${tarball}"
        else
            find "${CACHE_DIR}" -maxdepth 1 -name 'python-standin-*.tar*' -delete
            build_standin_tarball "${tarball}.part" "${mirror}"
            mv -f "${tarball}.part" "${tarball}"
        fi
    fi
    # Image config close to the official image's: PATH with /usr/local/bin first, UTF-8 locale, and the
    # CA bundle made explicit for tools that do not read the system store by default (uv, certifi).
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
        --change "ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt" \
        --change 'CMD ["python3"]' \
        - "${BASE_IMAGE}" < "${tarball}" > /dev/null
    pass "base image ${BASE_IMAGE}: local stand-in built from Debian ${STANDIN_SUITE} packages ($(docker run --rm --network=none "${BASE_IMAGE}" python --version 2>&1))"
}

# ------------------------------------------------------------------------------------------------------
# Build
# ------------------------------------------------------------------------------------------------------
step_build() {
    local t0=${SECONDS} log_file="${WORK}/build.log"
    log "building ${IMAGE} from ${REPO_ROOT} (MODELS=${MODELS}, base ${BASE_IMAGE})"
    # --network=host: the engine has no bridge; pip in the build reaches the package index through the
    # host's network. Nothing from the host's pip configuration is passed in: the image's pip uses PyPI.
    if ! DOCKER_BUILDKIT=1 docker build \
        --progress=plain \
        --network=host \
        --build-arg "PYTHON_IMAGE=${BASE_IMAGE}" \
        --build-arg "MODELS=${MODELS}" \
        -t "${IMAGE}" \
        -f "${REPO_ROOT}/Dockerfile" \
        "${REPO_ROOT}" > "${log_file}" 2>&1; then
        tail -n 60 "${log_file}" >&2
        fail "docker build (log above)"
        return 1
    fi
    local size
    size=$(docker image inspect -f '{{.Size}}' "${IMAGE}")
    pass "docker build ${IMAGE} in $((SECONDS - t0)) s, $((size / 1000000)) MB"

    # The host's pip settings (find-links, extra index, ...) must not leak into the image: pip in the build
    # has to have fetched the packages from the default index (PyPI), and the image carries no pip config.
    local downloads custom pip_config
    downloads=$(grep -c -E '^#[0-9]+ [0-9.]+ +Downloading ' "${log_file}" || true)
    custom=$(grep -E 'Looking in (indexes|links)' "${log_file}" | head -n 1 || true)
    pip_config=$(docker run --rm --network=none --entrypoint /bin/sh "${IMAGE}" \
        -c 'pip config list 2> /dev/null; env | grep "^PIP_" || true')
    if [[ ${downloads} -gt 0 && -z ${custom} && -z ${pip_config} ]]; then
        pass "pip in the build downloaded ${downloads} distributions from the default index (PyPI); no pip config in the image"
    else
        fail "pip: ${downloads} downloads; custom index: '${custom}'; pip config in image: '${pip_config}'"
    fi
}

# ------------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------------
# Is stdout exactly one JSON object (optionally with some required keys)?
json_object() {
    python3 -c '
import json, sys
data = json.loads(sys.stdin.read())
if not isinstance(data, dict):
    sys.exit("not a JSON object: %r" % (data,))
missing = [k for k in sys.argv[1:] if k not in data]
if missing:
    sys.exit("missing keys %s in %s" % (missing, sorted(data)))
' "$@"
}

# run_check NAME KEYS -- DOCKER-RUN-ARGS...: docker run, expect exit 0 and one JSON object on stdout.
run_check() {
    local name=$1 keys=$2
    shift 3
    local out="${WORK}/${name}.out" err="${WORK}/${name}.err" rc=0 t0=${SECONDS}
    docker run --rm --network=none "$@" > "${out}" 2> "${err}" || rc=$?
    if [[ ${rc} -ne 0 ]]; then
        tail -n 20 "${err}" >&2
        fail "${name}: docker run ${*} exited ${rc}"
        return 0
    fi
    local why
    # shellcheck disable=SC2086 # keys is a space-separated list on purpose
    if ! why=$(json_object ${keys} < "${out}" 2>&1); then
        head -c 2000 "${out}" >&2
        fail "${name}: stdout is not one JSON object (${why##*$'\n'})"
        return 0
    fi
    pass "${name} ($((SECONDS - t0)) s): $(head -c 300 "${out}" | tr -d '\n')"
}

step_checks() {
    local user uid
    user=$(docker image inspect -f '{{.Config.User}}' "${IMAGE}")
    if [[ ${user} =~ ^[0-9]+(:[0-9]+)?$ && ${user%%:*} != 0 ]]; then
        pass "docker inspect: User=${user} (numeric, non-root)"
    else
        fail "docker inspect: User='${user}' is not a numeric non-root user"
    fi
    uid=${user%%:*}
    [[ ${uid} =~ ^[0-9]+$ ]] || uid=10001

    # Host folders mounted as the store volume, writable by the image's user.
    local store="${WORK}/store" store_ro="${WORK}/store-readonly-root"
    mkdir -p "${store}" "${store_ro}"
    as_root chown "${uid}" "${store}" "${store_ro}"
    chmod 0755 "${WORK}"

    run_check "churn train" "version compiled" -- -v "${store}:/data/store" "${IMAGE}" churn train
    run_check "churn score" "" -- -v "${store}:/data/store" "${IMAGE}" churn score
    engine_check "churn score --engine=compiled" compiled "${IMAGE}" "${store}"

    local rc=0
    docker run --rm --network=none "${IMAGE}" --help > "${WORK}/help.out" 2>&1 || rc=$?
    if [[ ${rc} -eq 0 ]]; then
        pass "--help: exit 0 ($(wc -l < "${WORK}/help.out") lines)"
    else
        tail -n 20 "${WORK}/help.out" >&2
        fail "--help: exit ${rc}"
    fi

    # The manifest the image wrote at build time (what DAGs are checked against) is what it prints now.
    if docker run --rm --network=none --entrypoint cat "${IMAGE}" /app/manifest.json > "${WORK}/manifest.built" \
        && docker run --rm --network=none "${IMAGE}" manifest > "${WORK}/manifest.now" \
        && cmp -s "${WORK}/manifest.built" "${WORK}/manifest.now" \
        && grep -q '"churn"' "${WORK}/manifest.built"; then
        pass "/app/manifest.json: written at build, the same as \`manifest\` prints ($(wc -c < "${WORK}/manifest.built") bytes)"
    else
        fail "/app/manifest.json: missing, or not what \`modelfleet manifest\` prints in the image"
    fi

    run_check "churn train on a read-only root fs" "version" -- \
        --read-only --tmpfs /tmp -v "${store_ro}:/data/store" "${IMAGE}" churn train

    # What the containers wrote must belong to the image's non-root user.
    local files foreign
    files=$(find "${store}" "${store_ro}" -mindepth 1 | wc -l)
    foreign=$(find "${store}" "${store_ro}" -mindepth 1 ! -uid "${uid}" | wc -l)
    if [[ ${files} -gt 0 && ${foreign} -eq 0 ]]; then
        pass "store: ${files} entries written, all owned by uid ${uid}"
    else
        fail "store: ${files} entries written, ${foreign} not owned by uid ${uid}"
    fi
}

# engine_check NAME ENGINE IMAGE STORE: `churn score --engine=ENGINE` in IMAGE reports that ENGINE predicted.
engine_check() {
    local name=$1 engine=$2 image=$3 store=$4 out="${WORK}/engine-${2}.out" rc=0
    docker run --rm --network=none -v "${store}:/data/store" "${image}" churn score --engine="${engine}" \
        --output=/data/store/engine-check.parquet > "${out}" 2> "${WORK}/engine.err" || rc=$?
    if [[ ${rc} -eq 0 ]] && python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["engine"] != sys.argv[1])' "${engine}" < "${out}"; then
        pass "${name} in ${image}: the ${engine} engine predicted"
    else
        tail -n 5 "${WORK}/engine.err" >&2
        fail "${name} in ${image}: exit ${rc}, $(head -c 200 "${out}")"
    fi
}

# The scoring-only image (`--target score`): no C compiler, and it scores with the library the default image
# built at train (the same base image, so the same platform).
step_score_image() {
    local t0=${SECONDS} image="${IMAGE}-score" store="${WORK}/store"
    if ! DOCKER_BUILDKIT=1 docker build --progress=plain --network=host --target score \
        --build-arg "PYTHON_IMAGE=${BASE_IMAGE}" --build-arg "MODELS=${MODELS}" \
        -t "${image}" -f "${REPO_ROOT}/Dockerfile" "${REPO_ROOT}" > "${WORK}/build-score.log" 2>&1; then
        tail -n 30 "${WORK}/build-score.log" >&2
        fail "docker build --target score"
        return 0
    fi
    pass "docker build --target score ${image} in $((SECONDS - t0)) s"
    if docker run --rm --network=none --entrypoint /bin/sh "${image}" -c 'command -v cc || command -v gcc'; then
        fail "${image} has a C compiler; the scoring image must not"
    else
        pass "${image} has no C compiler"
    fi
    engine_check "churn score --engine=compiled" compiled "${image}" "${store}"
}

# The image talks to object storage out of the box: `churn train` and `churn describe` against an
# S3-protocol server (moto, in a throwaway venv on the host's loopback), reached through the host network.
step_s3_check() {
    local venv="${WORK}/moto" port pid rc=0 t0=${SECONDS}
    if ! { python3 -m venv "${venv}" && "${venv}/bin/pip" install -q 'moto[server]>=5.0.20'; } > "${WORK}/moto-install.log" 2>&1; then
        tail -n 20 "${WORK}/moto-install.log" >&2
        fail "s3: could not install the S3-protocol server (moto) on the host"
        return 0
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${venv}/bin/python" -m moto.server -H 127.0.0.1 -p "${port}" > "${WORK}/moto.log" 2>&1 &
    pid=$!
    if ! python3 - "${port}" << 'EOF_PY'
import sys, time, urllib.request
endpoint = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(120):
    try:
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
        break
    except OSError:
        time.sleep(0.25)
else:
    sys.exit("moto did not start")
urllib.request.urlopen(urllib.request.Request(f"{endpoint}/modelfleet-ci", method="PUT"), timeout=5).close()
EOF_PY
    then
        kill "${pid}" 2> /dev/null || true
        fail "s3: the S3-protocol server did not start"
        return 0
    fi
    local env=(-e AWS_ACCESS_KEY_ID=ci -e AWS_SECRET_ACCESS_KEY=ci-secret -e AWS_DEFAULT_REGION=us-east-1
        -e "MODELFLEET_STORAGE_OPTIONS={\"client_kwargs\": {\"endpoint_url\": \"http://127.0.0.1:${port}\"}}")
    local store=s3://modelfleet-ci/store out="${WORK}/s3-describe.out"
    docker run --rm --network=host "${env[@]}" "${IMAGE}" churn train --store="${store}" --n_estimators=20 \
        > "${WORK}/s3-train.out" 2> "${WORK}/s3-train.err" || rc=$?
    if [[ ${rc} -eq 0 ]]; then
        docker run --rm --network=host "${env[@]}" "${IMAGE}" churn describe --store="${store}" \
            > "${out}" 2> "${WORK}/s3-describe.err" || rc=$?
    fi
    kill "${pid}" 2> /dev/null || true
    if [[ ${rc} -ne 0 ]]; then
        tail -n 20 "${WORK}"/s3-*.err >&2
        fail "s3: churn train and describe --store=${store} in the image exited ${rc}"
    elif python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if d["store"] == sys.argv[1] and len(d["versions"]) == 1 else "describe: %r" % d["versions"])' "${store}" < "${out}"; then
        pass "s3: churn train and describe --store=${store} in the image ($((SECONDS - t0)) s)"
    else
        fail "s3: describe --store=${store} does not list the version train committed"
    fi
}

# ------------------------------------------------------------------------------------------------------
main() {
    [[ -f ${REPO_ROOT}/Dockerfile ]] || die "no Dockerfile in ${REPO_ROOT}"
    step_tools
    step_dockerd
    step_base_image
    if step_build; then
        step_checks
        step_score_image
        step_s3_check
    fi
    echo
    echo "== modelfleet image checks (${IMAGE}, MODELS=${MODELS}, $((SECONDS - START_SECONDS)) s) =="
    printf '%s\n' "${SUMMARY[@]}"
    if [[ ${FAILURES} -ne 0 ]]; then
        echo "${FAILURES} check(s) failed"
        return 1
    fi
    echo "all checks passed"
}

main "$@"
