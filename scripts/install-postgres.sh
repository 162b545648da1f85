#!/usr/bin/env bash
# Install the PostgreSQL server binaries the PostgreSQL tests start a throwaway server from
# (scripts/postgres-server.sh). Does nothing when initdb is already there.
#
# Usage: scripts/install-postgres.sh   (as root, or with PostgreSQL installed beforehand)
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing postgresql for the PostgreSQL tests"
    apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null
else
    echo "the PostgreSQL tests need the server: apt-get install postgresql (Debian/Ubuntu)" >&2
    exit 1
fi
