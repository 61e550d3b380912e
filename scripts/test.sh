#!/usr/bin/env bash
# Sets up everything a fresh machine lacks, then runs the linters, the type checker
# and the whole test suite. Usage: scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests start for real: a PostgreSQL server.
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "== installing PostgreSQL (apt)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi

# The Telegram Bot API emulator the tests start: Node.js, and npm packages from the lock file.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "== installing Node.js (apt)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d tests/emulator/node_modules/telegram-test-api ] \
    || [ tests/emulator/package-lock.json -nt tests/emulator/node_modules/.package-lock.json ]; then
    echo "== installing the Telegram emulator (npm ci)"
    npm ci --prefix tests/emulator --no-audit --no-fund --loglevel=error
fi

# The container test builds and runs the image with buildah (no Docker engine needed).
if ! command -v buildah >/dev/null || ! command -v podman >/dev/null \
    || ! command -v debootstrap >/dev/null; then
    echo "== installing buildah, podman, debootstrap (apt)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq buildah podman debootstrap >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install --quiet -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import bot, trafilatura, telegram, sqlalchemy"  # the install really worked

echo "== ruff check";  .venv/bin/ruff check .
echo "== ruff format"; .venv/bin/ruff format --check .
echo "== mypy";        .venv/bin/mypy --strict bot/
echo "== pytest";      .venv/bin/pytest "$@"
