#!/usr/bin/env bash
# Issue 13 dump benchmark: the same table in nexthopd and in BIRD 2, side by
# side; times a full JSON dump (GET /v1/routes over the control socket) against
# `birdc show route all`, and GET /v1/routes/summary against `birdc show route
# count`. Each daemon holds N /24 prefixes of its own (nexthopd `[[originate]]`,
# BIRD `protocol static` blackhole routes): one path per prefix in both, the
# same prefixes. Best of REPS runs each, wall clock.
#
#   results/issue13-dump/run.sh [N] [REPS]     (default 100000 3)
#
# Needs: bird, birdc, curl, a release nexthopd (cargo build --release -p
# nexthopd; $NEXTHOPD overrides). Loopback only: nexthopd on 127.0.0.195 on a
# port of its own, BIRD with no BGP at all. Every process started is stopped
# by its PID on exit.
set -euo pipefail
N=${1:-100000}
REPS=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
NEXTHOPD=${NEXTHOPD:-$root/target/release/nexthopd}
for t in bird birdc curl "$NEXTHOPD"; do
  command -v "$t" >/dev/null || { echo "run.sh: $t missing" >&2; exit 2; }
done
dir=$(mktemp -d /tmp/issue13-dump.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$dir/bird.pid" ] && kill "$(cat "$dir/bird.pid")" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

prefixes() { # N -> one a.b.c.0/24 a line, from 10.0.0.0 up
  awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "%d.%d.%d.0/24\n", 10 + int(i / 65536), int(i / 256) % 256, i % 256 }'
}

# nexthopd
{
  printf '[router]\nasn = 65195\nrouter_id = "192.0.2.195"\nlisten = ["127.0.0.195:17995"]\n\n'
  printf '[control]\nsocket = "%s/nexthopd.sock"\n\n' "$dir"
  prefixes "$N" | awk '{ printf "[[originate]]\nprefix = \"%s\"\n\n", $1 }'
} > "$dir/nexthopd.toml"
"$NEXTHOPD" run --config "$dir/nexthopd.toml" > "$dir/nexthopd.log" 2>&1 &
pids+=($!)

# BIRD
{
  printf 'router id 192.0.2.196;\nprotocol device {}\nprotocol static statics {\n  ipv4;\n'
  prefixes "$N" | awk '{ printf "  route %s blackhole;\n", $1 }'
  printf '}\n'
} > "$dir/bird.conf"
bird -c "$dir/bird.conf" -s "$dir/bird.ctl" -P "$dir/bird.pid"

api() { curl -sS --unix-socket "$dir/nexthopd.sock" "http://nexthopd$1"; }
# Both hold the table.
for _ in $(seq 240); do
  got=$(api /v1/routes/summary 2>/dev/null | grep -o '"prefixes":[0-9]*' | head -1 | cut -d: -f2 || true)
  [ "${got:-0}" = "$N" ] && break
  sleep 0.5
done
[ "${got:-0}" = "$N" ] || { echo "nexthopd holds ${got:-0} of $N"; tail "$dir/nexthopd.log"; exit 1; }
for _ in $(seq 240); do
  bgot=$(birdc -s "$dir/bird.ctl" show route count 2>/dev/null | sed -n 's/^Total: \([0-9]*\) of .*/\1/p' || true)
  [ "${bgot:-0}" = "$N" ] && break
  sleep 0.5
done
[ "${bgot:-0}" = "$N" ] || { echo "BIRD holds ${bgot:-0} of $N"; exit 1; }

best() { # command... -> best wall seconds of REPS, and bytes of the last output
  local b=999999 bytes=0
  for _ in $(seq "$REPS"); do
    local t0 t1
    t0=$(date +%s.%N)
    bytes=$("$@" | wc -c)
    t1=$(date +%s.%N)
    b=$(echo "$t1 - $t0" | bc -l | awk -v b="$b" '{ print ($1 < b) ? $1 : b }')
  done
  echo "$b $bytes"
}
count_json() { api /v1/routes | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
dumped=$(count_json)
[ "$dumped" = "$N" ] || { echo "nexthopd dump has $dumped routes, not $N"; exit 1; }

read -r nd nb < <(best api /v1/routes)
read -r bd bb < <(best birdc -s "$dir/bird.ctl" show route all)
read -r ns _ < <(best api /v1/routes/summary)
read -r bs _ < <(best birdc -s "$dir/bird.ctl" show route count)
printf '%s\n' \
  "prefixes: $N (each daemon), best of $REPS" \
  "full dump: nexthopd GET /v1/routes ${nd}s (${nb} bytes JSON); BIRD show route all ${bd}s (${bb} bytes); BIRD/nexthopd $(echo "$bd / $nd" | bc -l | cut -c1-5)" \
  "summary:   nexthopd GET /v1/routes/summary ${ns}s; BIRD show route count ${bs}s; BIRD/nexthopd $(echo "$bs / $ns" | bc -l | cut -c1-5)"
