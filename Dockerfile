# Duta: `duta run` as a container. Build: docker build -t duta .
#
# The base image is a build argument so the same file builds on the official slim
# Python image (the default) and on any Debian-like image with python3 (>= 3.11) and
# python3-venv, e.g. a locally bootstrapped one where no registry is reachable.
# PIP_CERT names a CA bundle for pip when the build host sits behind an intercepting
# proxy (mount it into the build); empty, pip uses its own bundle.

ARG BASE_IMAGE=python:3.12-slim

# ---- deps: the dependencies in a virtual environment, from the pinned ranges in
# pyproject.toml; this layer is reused while only the code changes ----
FROM ${BASE_IMAGE} AS deps
ARG PIP_CERT=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/duta
WORKDIR /src
COPY pyproject.toml ./
RUN python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > requirements.txt \
    && /opt/duta/bin/pip install --no-cache-dir --requirement requirements.txt

# ---- build: the project itself into the same environment ----
FROM deps AS build
ARG PIP_CERT=""
COPY README.md ./
COPY bot/ bot/
RUN /opt/duta/bin/pip install --no-cache-dir --no-deps . \
    && /opt/duta/bin/pip check \
    && /opt/duta/bin/duta --version

# ---- runtime: the virtual environment, the configuration files, a non-root user ----
FROM ${BASE_IMAGE}
RUN groupadd --gid 10001 duta \
    && useradd --uid 10001 --gid duta --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin duta \
    && mkdir -p /data \
    && chown duta:duta /data

COPY --from=build /opt/duta /opt/duta
WORKDIR /app
COPY sources.yaml ./
COPY seeds/ seeds/

ENV PATH=/opt/duta/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DUTA_DATABASE_URL=sqlite:////data/duta.db \
    DUTA_LOG_FORMAT=json \
    DUTA_HTTP_PORT=8080

VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["duta", "health"]
STOPSIGNAL SIGTERM
# Numeric, so an orchestrator can check that the user is not root (runAsNonRoot).
USER 10001:10001

# `duta` is PID 1 and receives SIGTERM itself; the default command is the service and
# any other subcommand runs with the same image: `docker run IMAGE sources list`.
ENTRYPOINT ["duta"]
CMD ["run"]
