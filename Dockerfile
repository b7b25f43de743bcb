# syntax=docker/dockerfile:1
#
# Two images from one base:
#   app  (the default, last stage) - what docker-compose.yml runs: bin/setup,
#        bin/web, bin/worker, bin/beat; runtime dependencies only, non-root.
#   test - the same base plus make and the dev dependencies, so that
#        `make test` (what CI runs) works inside the image as it does on a laptop.
#
# Dependencies are installed before the source is copied so that editing code
# does not re-download them; only a change to requirements*.txt does.

FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed uid/gid, so files written to volumes have a predictable owner.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin app

WORKDIR /app


FROM base AS test

# make for the Makefile; Chromium for the browser tests, wrk for the load test,
# the PostgreSQL client for the backup test (python3 -m venv is in the image).
RUN apt-get update \
 && apt-get install --yes --no-install-recommends make chromium wrk postgresql-client \
 && rm -rf /var/lib/apt/lists/*

RUN chown app:app /app
USER app

# The venv stamp (.venv/bin/.installed) depends only on requirements-dev.txt,
# so building it here means `make test` at run time reuses it. COPY keeps the
# files' modification times, so the later full copy does not make it stale.
COPY --chown=app:app Makefile requirements-dev.txt ./
RUN make venv

COPY --chown=app:app . .

# Tests read ../shared/{data,seeds}: mount the shared folder at /shared.
CMD ["make", "ci"]


FROM base AS app

LABEL org.opencontainers.image.title="forecast-tracker" \
      org.opencontainers.image.description="Holds published predictions to account: forecasts, resolutions and honest scores." \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim"

COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The source stays owned by root (the app cannot rewrite its own code);
# only var/ (static files, beat schedule) is writable by the app user.
COPY . .
ENV VAR_DIR=/app/var \
    MPLCONFIGDIR=/app/var/matplotlib \
    BIND=0.0.0.0:8000
# A fresh named volume mounted here copies this directory's owner, so the
# compose volume for /app/var is writable by app too.
RUN mkdir -p "$VAR_DIR" && chown app:app "$VAR_DIR"

USER app
EXPOSE 8000

# The same scripts `make run` uses; compose picks bin/setup, bin/worker or bin/beat.
CMD ["bin/web"]
