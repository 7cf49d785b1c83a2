#!/bin/sh
# Written by nestlab (`nestlab bench`: over ssh, or in a pod with kubectl exec). Runs one of the paper's benchmarks on
# this machine and prints the tool's own output on stdout, which nestlab keeps as the raw
# file and parses:
#
#   bench-node.sh setup    BENCH   start what the benchmark needs (servers, a database)
#   bench-node.sh run      BENCH   one measurement: the tool's output on stdout
#   bench-node.sh teardown BENCH   stop and remove what setup made
#
# BENCH is iperf3, redis, stress-ng, pgbench or fio. Parameters come from the environment
# (nestlab sets every one; the defaults here are the paper's). Everything lives under
# $BENCH_DIR and servers listen on $BENCH_PORT, both chosen per run by nestlab, so two runs
# never share a server or a file; teardown leaves nothing running. Every wait is bounded.
#
# Where the servers are (iperf3, redis and pgbench have one):
#   by default on this machine, on 127.0.0.1 only;
#   BENCH_LISTEN=ADDR   this machine is the server for another one: servers listen on ADDR
#                       (postgres lets in the addresses of BENCH_ALLOW, CIDRs, comma-separated);
#   BENCH_SERVER=ADDR   this machine is the client: setup only checks the tools, run measures
#                       against the server at ADDR:$BENCH_PORT.
# BENCH_INSTALL=apt installs a missing tool with apt-get (in a throw-away container).
# Runs as root (nestlab uses sudo -n for other users). Exit codes: 0 ok, 2 usage,
# 3 a tool is missing (the message says which package), 1 anything else.
set -eu

action=${1:-}
bench=${2:-}
dir=${BENCH_DIR:-/var/tmp/nestlab-bench}
duration=${BENCH_DURATION:-60}
port=${BENCH_PORT:-15201}
listen=${BENCH_LISTEN:-127.0.0.1}
server=${BENCH_SERVER:-}

die() { echo "bench-node: $*" >&2; exit 1; }
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "${BENCH_INSTALL:-}" = apt ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2"; } >&2 ||
      { echo "bench-node: apt-get install $2 failed" >&2; exit 3; }
    command -v "$1" >/dev/null 2>&1 && return 0
  fi
  echo "bench-node: $1 is not installed here (apt-get install $2)" >&2
  exit 3
}

pg_bin() {
  if [ "${BENCH_INSTALL:-}" = apt ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need pg_ctlcluster postgresql; fi
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && b=$d; done
  [ -n "${b:-}" ] || { echo "bench-node: PostgreSQL is not installed here (apt-get install postgresql)" >&2; exit 3; }
  echo "$b"
}
as_postgres() { runuser -u postgres -- "$@"; }

case $bench in
iperf3 | redis | stress-ng | pgbench | fio) ;;
*) echo "bench-node: unknown benchmark '$bench' (iperf3, redis, stress-ng, pgbench, fio)" >&2; exit 2 ;;
esac

setup() {
  mkdir -p "$dir"
  if [ -n "$server" ]; then
    # The client of a server elsewhere: only its tools.
    case $bench in
    iperf3) need iperf3 iperf3 ;;
    redis) need redis-benchmark redis-tools ;;
    pgbench) need pgbench postgresql-client ;;
    esac
    return 0
  fi
  case $bench in
  iperf3)
    need iperf3 iperf3
    iperf3 -s -D -B "$listen" -p "$port" --pidfile "$dir/iperf3.pid" >/dev/null
    i=0; while [ ! -s "$dir/iperf3.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    ;;
  redis)
    need redis-server redis-server
    need redis-benchmark redis-tools
    # Not on loopback: protected mode would refuse the client (there is no password to set).
    protected=yes
    [ "$listen" = 127.0.0.1 ] || protected=no
    redis-server --bind "$listen" --port "$port" --protected-mode "$protected" --save '' --appendonly no --daemonize yes \
      --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" >/dev/null
    i=0; until timeout 2 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; do
      i=$((i + 1)); [ $i -lt 100 ] || die "redis-server did not answer (see $dir/redis.log)"; sleep 0.1
    done
    ;;
  stress-ng) need stress-ng stress-ng ;;
  fio) need fio fio ;;
  pgbench)
    bin=$(pg_bin)
    need pgbench postgresql-client
    rm -rf "$dir/pg"
    mkdir -p "$dir/pg"
    chown postgres: "$dir/pg"
    as_postgres "$bin/initdb" -D "$dir/pg/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 || die "initdb failed (see $dir/initdb.log)"
    addresses=''
    if [ "$listen" != 127.0.0.1 ]; then
      addresses=$listen
      # Trust for the client's addresses only, and only for this run's throw-away database.
      for cidr in $(echo "${BENCH_ALLOW:-}" | tr ',' ' '); do
        echo "host bench postgres $cidr trust" >>"$dir/pg/data/pg_hba.conf"
      done
    fi
    as_postgres "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 120 \
      -o "-p $port -k $dir/pg -c listen_addresses='$addresses'" start >/dev/null || die "postgres did not start (see $dir/pg/server.log)"
    as_postgres "$bin/createdb" -h "$dir/pg" -p "$port" bench
    as_postgres pgbench -h "$dir/pg" -p "$port" -i -q -s "${PGBENCH_SCALE:-10}" bench >"$dir/pgbench-init.log" 2>&1 ||
      die "pgbench -i failed (see $dir/pgbench-init.log)"
    ;;
  esac
}

run() {
  case $bench in
  iperf3)
    iperf3 -c "${server:-127.0.0.1}" -p "$port" -t "$duration" -P "${IPERF3_STREAMS:-1}" -J
    ;;
  redis)
    # -n is the work per run; the duration parameter does not apply to redis-benchmark.
    redis-benchmark -h "${server:-127.0.0.1}" -p "$port" -n "${REDIS_REQUESTS:-100000}" -c "${REDIS_CLIENTS:-50}" \
      -P "${REDIS_PIPELINE:-1}" -t set,get --csv
    ;;
  stress-ng)
    rm -f "$dir/stress-ng.yaml"
    stress-ng --cpu "${STRESS_CPUS:-0}" --cpu-method "${STRESS_CPU_METHOD:-all}" --timeout "${duration}s" \
      --metrics --yaml "$dir/stress-ng.yaml" >"$dir/stress-ng.log" 2>&1 || { cat "$dir/stress-ng.log" >&2; exit 1; }
    cat "$dir/stress-ng.yaml"
    ;;
  pgbench)
    if [ -n "$server" ]; then
      pgbench -h "$server" -p "$port" -U postgres -T "$duration" -c "${PGBENCH_CLIENTS:-4}" -j "${PGBENCH_THREADS:-2}" bench
    else
      as_postgres pgbench -h "$dir/pg" -p "$port" -T "$duration" -c "${PGBENCH_CLIENTS:-4}" -j "${PGBENCH_THREADS:-2}" bench
    fi
    ;;
  fio)
    fio --output-format=json --name=bench --filename="$dir/fio.dat" --size="${FIO_SIZE:-1G}" \
      --rw="${FIO_RW:-randrw}" --bs="${FIO_BS:-4k}" --iodepth="${FIO_IODEPTH:-32}" --ioengine="${FIO_ENGINE:-libaio}" \
      --direct="${FIO_DIRECT:-1}" --runtime="$duration" --time_based --group_reporting
    ;;
  esac
}

teardown() {
  case $bench in
  iperf3 | redis)
    pidfile=$dir/$bench.pid
    if [ -s "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      # A server still exiting writes its log into $dir: removing $dir under it can fail
      # ("Directory not empty"). Wait until it is gone (bounded, 10 s).
      i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    ;;
  pgbench)
    if [ -d "$dir/pg/data" ]; then
      as_postgres "$(pg_bin)/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  esac
  rm -rf "$dir" 2>/dev/null || { sleep 1; rm -rf "$dir"; }
}

case $action in
setup) setup ;;
run) run ;;
teardown) teardown ;;
*) echo "bench-node: usage: bench-node.sh setup|run|teardown BENCH" >&2; exit 2 ;;
esac
