#!/usr/bin/env bash
# Stops a server started by start_postgres.sh and removes its directory.
#
#   stop_postgres.sh DIR
#
# Safe to run twice, or on a directory whose server never started; refuses a
# directory that start_postgres.sh did not make.
set -euo pipefail

say() { printf 'stop_postgres: %s\n' "$*" >&2; }

dir="${1:?usage: stop_postgres.sh DIR}"
[ -e "$dir" ] || exit 0
[ -f "$dir/.pollen-pg" ] || { say "$dir was not made by start_postgres.sh; leaving it alone"; exit 1; }

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bin" ]; then
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >&2 \
        || runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >&2 \
        || say "pg_ctl stop failed"
fi
# The watchdog, unless it is what runs this script.
if [ -f "$dir/watchdog.pid" ]; then
    wd="$(cat "$dir/watchdog.pid")"
    if [ "$wd" != "$PPID" ] && [ "$wd" != "$$" ]; then kill "$wd" 2>/dev/null || true; fi
fi
rm -rf -- "$dir"
