#!/usr/bin/env bash
# The whole test suite, as a new user and CI run it: a fresh virtual environment with the
# test extras, then ruff, mypy (strict) and pytest, including the Spark parity test.
set -euo pipefail
cd "$(dirname "$0")/.."

# PySpark needs a Java runtime (17 or newer).
if ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless
    else
        echo "Java 17+ is needed for the Spark tests: install openjdk-17-jre-headless" >&2
        exit 2
    fi
fi

VENV="${EMPOWERED_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'

"$VENV/bin/ruff" check src tests benchmarks
"$VENV/bin/ruff" format --check src tests benchmarks
"$VENV/bin/mypy"
"$VENV/bin/python" -m pytest "$@"
