# modelfleet: several ML models in one image, driven by the `modelfleet` Python Fire CLI.
#
#   docker build -t modelfleet .                          # all models
#   docker build --build-arg MODELS=churn -t churn .      # only what the churn model needs
#   docker build --build-arg STORAGE=s3,gcs -t modelfleet .  # object storage: s3 (the default), gcs, azure
#   docker run --rm -v "$PWD/store:/data/store" modelfleet churn train --n_estimators=300
#   docker build --target score -t modelfleet-score .       # scoring only: no C compiler
#
# Two images: the default (train and score) has a C compiler, so that `train` builds each boosted-trees
# version into a C library for score's compiled engine; `--target score` has none and scores with the
# libraries the default image built (the same base image: the same platform), or with LightGBM.
#
# The base image is pinned by tag here so it can be overridden with --build-arg PYTHON_IMAGE=...;
# production builds should pin it by digest, e.g. python:3.11-slim@sha256:<digest>, so that rebuilds
# are reproducible and the OS packages installed below stay consistent.
ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------------
# Build stage: turn the source tree into a wheel.
# ---------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ARG HATCH_VERSION=1.18.2

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN pip install --no-cache-dir "hatch==${HATCH_VERSION}"

WORKDIR /src
COPY . /src
RUN hatch build -t wheel /tmp/wheels

# ---------------------------------------------------------------------------------------------------
# Scoring image: the wheel plus the extras for the chosen models, run as a non-root user; no compiler.
# ---------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS score

# Which extras of the modelfleet distribution to install: all, or a comma list such as churn,ltv.
ARG MODELS=all
# Object storage the image talks to (extras s3, gcs, azure, comma-separated; empty for none).
ARG STORAGE=s3
ARG APP_UID=10001
ARG APP_GID=10001

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# libgomp1 is the OpenMP runtime LightGBM links against.
# DL3008 (pin apt versions) is ignored for this one package on purpose: its version is set by the Debian
# release of the base image, and Debian drops superseded versions from its mirror, so an explicit pin
# would break every rebuild after a security update. Pin the base image by digest to freeze it instead.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid "${APP_GID}" app \
    && useradd --uid "${APP_UID}" --gid "${APP_GID}" --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app \
    && mkdir -p /data/store /app \
    && chown "${APP_UID}:${APP_GID}" /data/store /app

COPY --from=build /tmp/wheels/ /tmp/wheels/

# The wheel is our own artefact from the build stage (its version is fixed by shared/__init__.py);
# its dependencies are constrained by the ranges in pyproject.toml.
# /app/manifest.json: this image's models, commands and flags (`modelfleet manifest`), which DAGs are checked
# against beside Airflow (dispatch.airflow.pod_task's manifest=). Writing it fails the build if a parameter's
# type cannot be carried exactly. `docker run --rm IMAGE manifest` prints the same document.
RUN wheels=(/tmp/wheels/modelfleet-*.whl) \
    && [ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] \
    && pip install --no-cache-dir --disable-pip-version-check \
        "modelfleet[${MODELS}${STORAGE:+,${STORAGE}}] @ file://${wheels[0]}" \
    && rm -rf /tmp/wheels \
    && modelfleet --help > /dev/null \
    && modelfleet manifest > /app/manifest.json

ENV MODELFLEET_STORE=/data/store \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/app

VOLUME ["/data/store"]
WORKDIR /app
USER ${APP_UID}:${APP_GID}

ENTRYPOINT ["modelfleet"]
CMD ["--help"]

# ---------------------------------------------------------------------------------------------------
# Train-and-score image (the default): the scoring image plus a C compiler for the compiled engine.
# ---------------------------------------------------------------------------------------------------
FROM score AS runtime

ARG APP_UID=10001
ARG APP_GID=10001

USER root
# gcc and the C library's headers: `train` (and `compile`) build a boosted-trees version into a C library.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
USER ${APP_UID}:${APP_GID}
