#!/usr/bin/env bash
# A Payrail cluster on one machine, to try it (docs/cluster.md): a pg_auto_failover monitor,
# a PostgreSQL primary and its hot standby (Debian's postgresql-15-auto-failover), and
# `--nodes` Payrail nodes (default 3) on the multi-host URL, each on the in-process operator
# simulator, listening on 127.0.0.1:8081, 8082, … Ctrl-C (or SIGTERM) stops everything; the data stays
# in `--dir` (default ./payrail-cluster) and a second run starts from it.
#
#   api/scripts/cluster-up.sh --nodes 3
#
# Then: curl http://127.0.0.1:8081/readyz, `GET /v1/cluster` with an admin key, and to see a
# failover: `pg_autoctl perform switchover --pgdata <dir>/monitor` (or stop the primary).
set -euo pipefail

nodes=3
dir=payrail-cluster
while [ $# -gt 0 ]; do
    case "$1" in
        --nodes) nodes="$2"; shift 2 ;;
        --dir) dir="$2"; shift 2 ;;
        *) echo "usage: $0 [--nodes N] [--dir DIR]" >&2; exit 2 ;;
    esac
done
command -v pg_autoctl >/dev/null || { echo "pg_autoctl is missing: apt-get install postgresql-15-auto-failover" >&2; exit 1; }
repo="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
export PATH="/usr/lib/postgresql/15/bin:$PATH" XDG_CONFIG_HOME="$dir/pg/config" XDG_DATA_HOME="$dir/pg/data"

# PostgreSQL refuses root: under root, pg_autoctl runs as the postgres account.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- env PATH="$PATH" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" XDG_DATA_HOME="$XDG_DATA_HOME" HOME="$dir/pg" "$@"
    else
        "$@"
    fi
}
mkdir -p "$dir/pg/config" "$dir/pg/data"
[ "$(id -u)" = 0 ] && chown -R postgres: "$dir/pg" && chmod o+x "$dir"

# Every process starts in a session of its own (setsid), so that stopping its group stops
# what it started too; nodes first, PostgreSQL last.
groups=()
stop() {
    trap - EXIT INT TERM
    echo "stopping"
    for ((i = ${#groups[@]} - 1; i >= 0; i--)); do
        kill -TERM -- "-${groups[i]}" 2>/dev/null || true
        while kill -0 -- "-${groups[i]}" 2>/dev/null; do sleep 0.2; done
    done
    exit 0
}
trap stop EXIT INT TERM

# Waits until `url` answers, or fails with the log of the process in group `group`.
wait_for() {
    local group="$1" url="$2" log="$3"
    until curl -fsS "$url" >/dev/null 2>&1; do
        kill -0 -- "-$group" 2>/dev/null || { echo "failed to start; see $log:" >&2; tail -5 "$log" >&2; exit 1; }
        sleep 1
    done
}

monitor_port=6000
monitor="postgres://autoctl_node@127.0.0.1:$monitor_port/pg_auto_failover?sslmode=disable"
setsid bash -c "$(declare -f as_postgres); dir='$dir'; as_postgres pg_autoctl create monitor \
    --pgdata '$dir/pg/monitor' --pgport $monitor_port --hostname 127.0.0.1 --auth trust --no-ssl \
    --run" >"$dir/monitor.log" 2>&1 &
groups+=($!)
until psql -qAt "postgres://postgres@127.0.0.1:$monitor_port/pg_auto_failover" -c 'select 1' >/dev/null 2>&1; do sleep 1; done
for n in 1 2; do
    setsid bash -c "$(declare -f as_postgres); dir='$dir'; as_postgres pg_autoctl create postgres \
        --pgdata '$dir/pg/node$n' --pgport $((6000 + n)) --hostname 127.0.0.1 --auth trust \
        --no-ssl --monitor '$monitor' --dbname payrail --run" >"$dir/postgres-$n.log" 2>&1 &
    groups+=($!)
    sleep 5
done
echo "waiting for the primary and its standby"
until [ "$(psql -qAt "postgres://postgres@127.0.0.1:$monitor_port/pg_auto_failover" \
        -c "select string_agg(reportedstate::text, ' ' order by nodeid) from pgautofailover.node" 2>/dev/null)" = "primary secondary" ]; do
    # The standby's base backup waits for a checkpoint on the primary.
    psql -qAt "postgres://postgres@127.0.0.1:6001/postgres" -c checkpoint >/dev/null 2>&1 || true
    sleep 1
done
database_url="postgres://postgres@127.0.0.1:6001,127.0.0.1:6002/payrail?target_session_attrs=read-write"

cargo build --release --locked --bin payrail --manifest-path "$repo/Cargo.toml"
payrail="$repo/target/release/payrail"
for n in $(seq 1 "$nodes"); do
    mkdir -p "$dir/node-$n"
    printf '[cluster]\nnode_name = "node-%s"\n' "$n" >"$dir/node-$n/payrail.toml"
    (cd "$dir/node-$n" && DATABASE_URL="$database_url" \
        exec setsid "$payrail" serve --listen "127.0.0.1:$((8080 + n))" >"$dir/node-$n.log" 2>&1) &
    groups+=($!)
    wait_for "$!" "http://127.0.0.1:$((8080 + n))/readyz" "$dir/node-$n.log"
    echo "node-$n ready on http://127.0.0.1:$((8080 + n))"
done
echo "database: $database_url"
echo "logs in $dir; Ctrl-C stops the cluster"
while true; do sleep 1; done
