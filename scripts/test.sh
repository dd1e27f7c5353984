#!/usr/bin/env bash
# The whole test suite, as a new user and CI run it: a fresh virtual environment with the
# test extras, then ruff, mypy (strict) and pytest, including the Spark parity test.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests need, installed from Debian when missing (as root only): a Java
# runtime (17 or newer) for PySpark, Chromium for the browser tests in tests/browser
# (Playwright drives Debian's Chromium; it cannot download a browser of its own here), Pango
# for the documents' PDFs and poppler-utils to look at them.
CHROMIUM="${EMPOWERED_CHROMIUM:-/usr/bin/chromium}"
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
[ -x "$CHROMIUM" ] || missing+=(chromium fonts-dejavu-core)
# WeasyPrint (the documents' PDFs) needs Pango; the documents' tests draw pages with pdftoppm.
ldconfig -p 2>/dev/null | grep 'libpangoft2-1.0.so' >/dev/null || missing+=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = "0" ]; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        if ! command -v java >/dev/null 2>&1; then
            echo "Java 17+ is needed for the Spark tests: install openjdk-17-jre-headless" >&2
            exit 2
        fi
        echo "Chromium is needed for the browser tests: install chromium (Debian:" \
            "apt-get install chromium) or set EMPOWERED_CHROMIUM; until then they skip" \
            "(and fail where EMPOWERED_REQUIRE_BROWSER=1)" >&2
    fi
fi

VENV="${EMPOWERED_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'

"$VENV/bin/ruff" check src tests benchmarks
"$VENV/bin/ruff" format --check src tests benchmarks
"$VENV/bin/mypy"
"$VENV/bin/python" -m pytest "$@"
