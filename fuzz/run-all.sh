#!/usr/bin/env bash
# Builds and runs every cargo-fuzz target of nexthop-core for a time budget each.
#
#   fuzz/run-all.sh [SECONDS]    per-target budget, default 60
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Exits
# non-zero as soon as a target fails to build or finds a crash; the crashing input
# is left in fuzz/artifacts/<target>/ and printed by libFuzzer.
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_PER_TARGET=${1:-60}
case "$SECONDS_PER_TARGET" in
  ''|*[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;;
esac

targets=$(cargo +nightly fuzz list)
[ -n "$targets" ] || { echo "no fuzz targets found" >&2; exit 1; }

cargo +nightly fuzz build

for target in $targets; do
  printf '\n--> fuzz %s for %ss\n' "$target" "$SECONDS_PER_TARGET"
  mkdir -p "corpus/$target"
  # New inputs go to corpus/<target> (kept between runs, not committed); seeds/
  # holds hand-made messages of every type, each led by the session byte.
  cargo +nightly fuzz run "$target" "corpus/$target" seeds -- \
    -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1
done
printf '\nall %s fuzz targets ran without a crash\n' "$(echo "$targets" | wc -w)"
