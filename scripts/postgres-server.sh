#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and CI: data folder and Unix socket in a new
# temporary folder, no TCP port, trust authentication for the one local superuser.
#
# Usage:
#   scripts/postgres-server.sh run CMD [ARG...]  start a server, run CMD with
#                                                 POINTS_LEDGER_TEST_PG set to its URL,
#                                                 then stop it and delete it, whatever
#                                                 happened (CMD's exit status is kept)
#   scripts/postgres-server.sh start             start one; print its folder (keep it)
#   scripts/postgres-server.sh env DIR           print the export line for its URL
#   scripts/postgres-server.sh stop DIR          stop it and delete the folder
#
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (or
# `nobody` where there is none); anyone else runs it as themselves. The binaries are
# looked up in PG_BIN, then /usr/lib/postgresql/*/bin, then PATH.
set -euo pipefail

find_bin() {
    if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then
        echo "$PG_BIN"
        return
    fi
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ]; then
            echo "$dir"
            return
        fi
    done
    if command -v initdb >/dev/null; then
        dirname "$(command -v initdb)"
        return
    fi
    echo "no PostgreSQL server binaries (initdb, pg_ctl) found; set PG_BIN" >&2
    exit 2
}

as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        local user=postgres
        id "$user" >/dev/null 2>&1 || user=nobody
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

url_of() {
    echo "postgresql:///postgres?host=$1/socket&user=ledger"
}

start() {
    local bin dir
    bin="$(find_bin)"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/points-ledger-pg.XXXXXX")"
    mkdir -p "$dir/data" "$dir/socket"
    if [ "$(id -u)" = 0 ]; then
        local user=postgres
        id "$user" >/dev/null 2>&1 || user=nobody
        chown -R "$user" "$dir"
    fi
    as_server_user "$bin/initdb" -D "$dir/data" -U ledger --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        exit 1
    }
    # Tests make many short-lived connections and a few crash on purpose; fsync stays on
    # so that the crash tests mean what they say.
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir/socket' -c max_connections=200" \
        start >/dev/null || {
        cat "$dir/server.log" >&2
        rm -rf "$dir"
        exit 1
    }
    echo "$dir"
}

stop() {
    local dir="$1" bin
    bin="$(find_bin)"
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_server_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    case "$dir" in
        */points-ledger-pg.*) rm -rf "$dir" ;;
        *) echo "not removing $dir: not a folder this script made" >&2 ;;
    esac
}

case "${1:-}" in
    start)
        start
        ;;
    env)
        echo "export POINTS_LEDGER_TEST_PG='$(url_of "$2")'"
        ;;
    stop)
        stop "$2"
        ;;
    run)
        shift
        dir="$(start)"
        trap 'set +e; stop "$dir"' EXIT
        trap 'exit 130' INT TERM
        status=0
        POINTS_LEDGER_TEST_PG="$(url_of "$dir")" "$@" || status=$?
        exit "$status"
        ;;
    *)
        sed -n '2,16p' "$0" >&2
        exit 2
        ;;
esac
