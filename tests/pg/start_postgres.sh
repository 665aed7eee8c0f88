#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for tests and prints how to reach it.
#
#   start_postgres.sh [DIR]
#
# DIR (created if missing, must be empty) holds the whole cluster: data,
# socket, log and the password; without it a fresh directory under /tmp is
# made. The server listens on 127.0.0.1 only, on a free port, with password
# (SCRAM) authentication, and has one database, `pollen`.
#
# Prints on stdout, one per line: the connection URL, then DIR. Everything
# else goes to stderr. Stop it and remove DIR with `stop_postgres.sh DIR`.
#
# If POLLEN_PG_OWNER_PID is set, a watchdog stops the server and removes DIR
# once that process is gone, so a test run that is killed leaves nothing
# running.
#
# Needs root on Debian: installs the distribution's `postgresql` package when
# no server binaries are present, and runs the server as the `postgres` user
# (PostgreSQL refuses to run as root).
set -euo pipefail

say() { printf 'start_postgres: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages, runs the server as user postgres)"
here="$(cd "$(dirname "$0")" && pwd)"

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
have_server() { [ -n "$(bindir)" ] && [ -x "$(bindir)/initdb" ]; }
if ! have_server; then
    # Tests start servers in parallel: one installs, the others wait for it.
    exec 9>/tmp/pollen-pg-install.lock
    flock -w 900 9 || die "timed out waiting for another PostgreSQL install"
    if ! have_server; then
        say "no PostgreSQL server binaries; installing the distribution's postgresql package"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q -o DPkg::Lock::Timeout=300 postgresql >&2 \
            || { apt-get update -q >&2 \
                 && apt-get install -y -q -o DPkg::Lock::Timeout=300 postgresql >&2; } \
            || die "apt-get install postgresql failed"
    fi
    exec 9>&-
fi
bin="$(bindir)"
[ -x "$bin/initdb" ] || die "no initdb under /usr/lib/postgresql/*/bin after installing"
id postgres >/dev/null 2>&1 || die "no postgres user (the postgresql package creates it)"

dir="${1:-}"
if [ -z "$dir" ]; then
    dir="$(mktemp -d /tmp/pollen-pg.XXXXXX)"
else
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
fi
dir="$(cd "$dir" && pwd)"
# stop_postgres.sh removes only directories carrying this marker.
echo "pollen throwaway PostgreSQL cluster" > "$dir/.pollen-pg"
chown postgres: "$dir"
chmod 700 "$dir"
# The server user must be able to reach DIR.
runuser -u postgres -- test -w "$dir" || die "user postgres cannot write $dir (is a parent directory private?)"

as_pg() { runuser -u postgres -- "$@"; }

password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$password" > "$dir/password"
chown postgres: "$dir/password"
chmod 600 "$dir/password"

as_pg "$bin/initdb" -D "$dir/data" -U postgres -A scram-sha-256 --pwfile="$dir/password" \
    -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
mkdir -p "$dir/socket" && chown postgres: "$dir/socket"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $(( 20000 + RANDOM % 20000 ))
}

# Another process may take the port between the probe and the start: retry.
started=
for _ in 1 2 3 4 5; do
    port="$(free_port)"
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket" start >&2; then
        started=1
        break
    fi
    say "server did not start on port $port; retrying"
done
if [ -z "$started" ]; then
    tail -n 30 "$dir/server.log" >&2 || true
    die "PostgreSQL did not start"
fi
echo "$port" > "$dir/port"

if [ -n "${POLLEN_PG_OWNER_PID:-}" ]; then
    # Detached from our stdout so the caller's read of it ends.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" "$3"' \
        watchdog "$POLLEN_PG_OWNER_PID" "$here/stop_postgres.sh" "$dir" \
        </dev/null >/dev/null 2>&1 &
    echo $! > "$dir/watchdog.pid"
fi

PGPASSWORD="$password" as_pg env PGPASSWORD="$password" "$bin/createdb" \
    -h 127.0.0.1 -p "$port" -U postgres pollen >&2 \
    || { "$here/stop_postgres.sh" "$dir" >&2 || true; die "createdb failed"; }

say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, cluster in $dir"
echo "postgresql://postgres:$password@127.0.0.1:$port/pollen"
echo "$dir"
