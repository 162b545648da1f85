#!/usr/bin/env bash
# Run the suites whose answers must not depend on the date, with the system clock moved.
#
# libfaketime (Debian's faketime) shifts the clock of this process and every child
# (subprocesses, SQLite), so a test that reads "today" anywhere fails here on the day it
# is written, not on the day the calendar reaches it. The dates are chosen to hurt: the
# last evening of a month in UTC that is already the next month in Chengdu, 29 February
# of a leap year, and a date years ahead.
#
# Usage: scripts/shifted-clock-tests.sh [PYTHON]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-.venv/bin/python}"
if ! command -v faketime >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -q >/dev/null && apt-get install -y -q faketime >/dev/null
    else
        echo "faketime is not installed: apt-get install faketime (Debian/Ubuntu)" >&2
        exit 1
    fi
fi
suites=(tests/unit tests/cli tests/integration tests/conformance tests/docs tests/examples)
failed=()
for when in "2027-01-31 23:30:00" "2028-02-29 16:30:00" "2041-06-15 03:00:00"; do
    echo "== clock moved to $when UTC"
    faketime "$when" "$python" -c 'import datetime as d; print("   python sees", d.datetime.now(d.UTC).isoformat(timespec="seconds"))'
    # The walkthroughs (whole_program) act on dates too: run them here as well.
    faketime "$when" "$python" -m pytest -q -p no:cacheprovider -n auto --dist loadfile -m "not soak and not ci_size" \
        "${suites[@]}" || failed+=("$when")
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "tests failed with the clock moved to: ${failed[*]}" >&2
    exit 1
fi
