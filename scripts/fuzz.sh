#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# The libFuzzer targets of fuzz/ (docs/fuzzing.md), built with the `fuzz`
# preset (clang-14, ASan + UBSan).
#
#   scripts/fuzz.sh smoke [SECONDS]          every target of the CI smoke SECONDS (default 20) from its
#                                            seed corpus; exit 1 on any finding
#   scripts/fuzz.sh run TARGET SECONDS [JOBS] a campaign: new inputs go to
#                                            build/fuzz/corpus/TARGET, findings to
#                                            build/fuzz/findings/TARGET, the whole
#                                            output to build/fuzz/TARGET.campaign.log;
#                                            FUZZ_RUNS=N stops it after N executions
#   scripts/fuzz.sh list                     the targets
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

targets=(niss_fuzz csv_import_fuzz connector_config_fuzz network_definition_fuzz http_server_fuzz api_bodies_fuzz)
smoke_targets=("${targets[@]}")

build() {
  cmake --preset fuzz >/dev/null
  # As scripts/test.sh: a failed build once more with one job, recompiling.
  if ! cmake --build --preset fuzz; then
    echo "fuzz: the build failed; once more with one job" >&2
    CCACHE_RECACHE=1 cmake --build --preset fuzz -j1
  fi
}

# run TARGET SECONDS JOBS: libFuzzer with the seeds (read only) and a work
# corpus (grown); a crash, leak, sanitizer report or timeout fails.
run() {
  local target=$1 seconds=$2 jobs=${3:-}
  local work=build/fuzz/corpus/$target findings=build/fuzz/findings/$target
  mkdir -p "$work" "$findings"
  local dict=()
  [[ -f fuzz/dict/$target.dict ]] && dict=(-dict="fuzz/dict/$target.dict")
  echo "fuzz: $target for ${seconds}s"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build/fuzz/fuzz/$target" "$work" "fuzz/corpus/$target" "${dict[@]}" \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$findings/" \
      ${jobs:+-fork=$jobs} ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -ignore_crashes=0 2>&1 |
    tee "build/fuzz/$target.campaign.log" | tail -n 30
}

case "${1:-}" in
  smoke)
    build
    seconds=${2:-20}
    failed=()
    for target in "${smoke_targets[@]}"; do
      work=build/fuzz/corpus/$target
      mkdir -p "$work" "build/fuzz/findings/$target"
      if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
          "build/fuzz/fuzz/$target" "$work" "fuzz/corpus/$target" -max_total_time="$seconds" \
          -timeout=20 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
          -artifact_prefix="build/fuzz/findings/$target/" >"build/fuzz/$target.log" 2>&1; then
        echo "fuzz: $target FAILED (build/fuzz/$target.log, build/fuzz/findings/$target/)"
        tail -n 40 "build/fuzz/$target.log"
        failed+=("$target")
      else
        echo "fuzz: $target ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' \
          "build/fuzz/$target.log" | grep -o '[0-9]*$' || echo '?') runs)"
      fi
    done
    ((${#failed[@]} == 0)) || exit 1
    ;;
  run)
    [[ $# -ge 3 ]] || { echo "usage: $0 run TARGET SECONDS [JOBS]" >&2; exit 2; }
    build
    run "$2" "$3" "${4:-}"
    ;;
  list) printf '%s\n' "${targets[@]}" ;;
  *) echo "usage: $0 smoke [SECONDS] | run TARGET SECONDS [JOBS] | list" >&2; exit 2 ;;
esac
