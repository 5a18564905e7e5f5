#!/usr/bin/env bash
# SPDX-License-Identifier: EUPL-1.2
# Research extract benchmark (docs/research.md, docs/benchmarks.md "Research
# extract"): `carrefour research extract` for a cohort of N persons (default
# 100 000) and 3 data types (person.identity and person.address at the
# national register, employment.wages at the contribution collector, four
# quarters a person): wall time, rows per second, and the time split between
# directory selection, routing, provider calls, writing, audit and the
# k-anonymity pass. The baseline, measured in the same run: the same
# providers called by carrefour_loadgen alone (same certificate, same number
# of calls in flight), i.e. what the provide calls cost with no extract
# around them.
#
#   bench/research_bench.sh [--persons N] [--batch N] [--concurrency N]
#                           [--build DIR] [--no-build] [--work-parent DIR] [--keep]
#
# Everything runs on 127.0.0.1 in a fresh temporary folder (PKI, network
# definition, hub data with a SQLite store, two carrefour_research_provider
# processes), stopped and removed on exit. Manual: CI does not run it.
#
# Against an existing network (the demo's, once it declares a research
# project), skip the generation and the baseline:
#
#   bench/research_bench.sh --network FILE --data DIR --project P --as INST
#                           [--store URL] [--cert F --key F --ca F]

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build/release"
PERSONS=100000
BATCH=1000
CONCURRENCY=64
DO_BUILD=1
KEEP=0
WORK_PARENT=""
NETWORK=""
DATA=""
PROJECT=""
AS=""
STORE=""
CERT=""
KEY=""
CA=""

usage() { sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --persons) PERSONS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --build) BUILD=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --work-parent) WORK_PARENT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --network) NETWORK=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --project) PROJECT=$2; shift 2 ;;
    --as) AS=$2; shift 2 ;;
    --store) STORE=$2; shift 2 ;;
    --cert) CERT=$2; shift 2 ;;
    --key) KEY=$2; shift 2 ;;
    --ca) CA=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "research_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$PERSONS" =~ ^[1-9][0-9]*$ ]] || { echo "research_bench.sh: --persons must be a positive integer" >&2; exit 2; }
if [[ -n "$NETWORK$DATA$PROJECT$AS" && ( -z "$NETWORK" || -z "$DATA" || -z "$PROJECT" || -z "$AS" ) ]]; then
  echo "research_bench.sh: an existing network needs --network, --data, --project and --as" >&2
  exit 2
fi

BENCH_NAME=research_bench.sh
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

WORK=""
cleanup() {
  local status=$?
  stop_started
  if [[ -n "$WORK" ]]; then
    if [[ $KEEP -eq 1 || ($status -ne 0 && $status -ne 130) ]]; then
      say "research_bench.sh: files kept in $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ---------------------------------------------------------------------------
if [[ $DO_BUILD -eq 1 ]]; then
  if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
    if [[ "$BUILD" == "$ROOT/build/release" ]]; then
      (cd "$ROOT" && cmake --preset release >/dev/null) || die "cmake --preset release failed"
    else
      cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || die "configuring $BUILD failed"
    fi
  fi
  say "building carrefour, carrefour_research_provider, carrefour_loadgen in $BUILD ..."
  cmake --build "$BUILD" --target carrefour carrefour_research_provider carrefour_loadgen -j2 >&2 || die "build failed"
fi
CARREFOUR="$BUILD/apps/carrefour/carrefour"
PROVIDER="$BUILD/bench/carrefour_research_provider"
LOADGEN="$BUILD/bench/loadgen/carrefour_loadgen"
for binary in "$CARREFOUR" "$PROVIDER" "$LOADGEN"; do
  [[ -x "$binary" ]] || die "$binary is missing (build it, or drop --no-build)"
done

WORK=$(mktemp -d "${WORK_PARENT:-${TMPDIR:-/tmp}}/carrefour-research-bench-XXXXXX")

# Prints the report's figures: report.json, the extract's wall time (s),
# the baseline's calls/s (or "").
summarize() {
  python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
wall = float(sys.argv[2])
baseline = sys.argv[3]
t = report["timings_seconds"]
rows = sum(d["rows"] for d in report["data_types"])
persons = report["cohort"]["size"]
calls = report["last_run"]["provider_calls"]
print(f"cohort: {persons} persons; data types: {', '.join(d['data_type'] for d in report['data_types'])}")
per_type = ", ".join("%s %d" % (d["data_type"], d["rows"]) for d in report["data_types"])
print(f"rows written: {rows} ({per_type})")
print(f"k-anonymity: released {report['k_anonymity']['persons_released']}, suppressed {report['k_anonymity']['persons_suppressed']}, "
      + ", ".join(f"{q['field']} {q['declared']} -> {q['released']}" for q in report['k_anonymity']['quasi_identifiers']))
print(f"wall time (command, process start to exit): {wall:.2f} s; extract total {t['total']:.2f} s")
print(f"throughput: {rows / t['total']:.0f} rows/s, {persons / t['total']:.0f} persons/s, {calls / t['total']:.0f} provide calls/s overall")
print("time split (s, % of total; writing and audit of batch N overlap the provider calls of batch N+1):")
for stage, label in [("select", "directory selection (cohort)"), ("route", "routing (entries of each batch)"),
                     ("provide", "provider calls (incl. pseudonymization)"), ("write", "writing batches + journal (fsync)"),
                     ("audit", "audit records (durable)"), ("finalize", "k-anonymity + final files")]:
    print(f"  {label:42s} {t[stage]:8.2f}  {100 * t[stage] / t['total']:5.1f}%")
if t["provide"] > 0:
    line = f"provide stage: {calls / t['provide']:.0f} calls/s"
    if baseline:
        line += f"; baseline (carrefour_loadgen alone on the same providers, as many calls in flight): {float(baseline):.0f} calls/s"
    print(line)
EOF
}

# --- an existing network -------------------------------------------------------------------
if [[ -n "$NETWORK" ]]; then
  OUT="$WORK/extract"
  args=(research extract --project "$PROJECT" --as "$AS" --network "$NETWORK" --data "$DATA" --out "$OUT"
        --batch "$BATCH" --concurrency "$CONCURRENCY")
  [[ -n "$STORE" ]] && args+=(--store "$STORE")
  [[ -n "$CERT" ]] && args+=(--cert "$CERT" --key "$KEY" --ca "$CA")
  start=$(date +%s.%N)
  "$CARREFOUR" "${args[@]}" >"$WORK/extract.log" || { cat "$WORK/extract.log" >&2; die "the extract failed"; }
  wall=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
  summarize "$OUT/report.json" "$wall" ""
  exit 0
fi

# --- a generated network -------------------------------------------------------------------
PKI="$WORK/pki"
"$CARREFOUR" pki init --dir "$PKI" >/dev/null
for name in hub nr onss; do
  "$CARREFOUR" pki issue --dir "$PKI" --name "$name" --host 127.0.0.1 --host localhost >/dev/null
done

declare -A PORT
for name in nr onss; do
  start_provider "$name" "$PROVIDER" "$name" --threads 2
  PORT[$name]=$PROVIDER_PORT
done

cat >"$WORK/network.toml" <<EOF
[[institution_type]]
id = "national-register"
[[institution_type]]
id = "contribution-collector"
capacities = ["employee"]
[[institution_type]]
id = "university"

[[institution]]
id = "nr"
type = "national-register"
endpoint = "https://127.0.0.1:${PORT[nr]}"
[[institution]]
id = "onss"
type = "contribution-collector"
endpoint = "https://127.0.0.1:${PORT[onss]}"
[[institution]]
id = "univ"
type = "university"

[[data_type]]
id = "person.identity"
fields = ["last_name", "first_names", "birth_date", "sex", "nationality"]
research_fields = ["birth_date", "sex", "nationality"]
[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality", "country", "since"]
research_fields = ["postal_code"]
[[data_type]]
id = "employment.wages"
fields = ["quarter", "employer_id", "gross_wage", "days_worked"]
research_fields = ["quarter", "gross_wage", "days_worked"]

[[availability]]
data_type = "person.identity"
provider_type = "national-register"
[[availability]]
data_type = "person.address"
provider_type = "national-register"
[[availability]]
data_type = "employment.wages"
provider_type = "contribution-collector"
capacity = "employee"

[[research_project]]
id = "bench"
requester = "univ"
legal_basis = "ISC/25/R99"
from = 2020-01-01
period = { from = 2024-01-01, to = 2024-12-31 }
cohort = { institution_type = "contribution-collector", capacity = "employee" }
data = [
  { data_type = "person.identity", fields = ["birth_date", "sex", "nationality"] },
  { data_type = "person.address", fields = ["postal_code"] },
  { data_type = "employment.wages", fields = ["quarter", "gross_wage", "days_worked"] },
]
quasi_identifier = [
  { data_type = "person.identity", field = "birth_date", coarsen = "year" },
  { data_type = "person.identity", field = "sex", coarsen = "keep" },
  { data_type = "person.address", field = "postal_code", coarsen = "province" },
]
EOF

DATA_DIR="$WORK/data"
mkdir -p "$DATA_DIR"
say "generating $PERSONS persons and importing their files at onss ..."
"$CARREFOUR" niss generate --count "$PERSONS" --seed 1 |
  awk 'BEGIN { print "institution,niss,capacity,from,to" } { print "onss," $1 ",employee,2020-01-01," }' \
  >"$WORK/entries.csv"
"$CARREFOUR" directory import --network "$WORK/network.toml" --store "sqlite:$DATA_DIR/hub.db" \
  --file "$WORK/entries.csv" >"$WORK/import.log" 2>&1 || { cat "$WORK/import.log" >&2; die "import failed"; }

# Baseline: the same two providers called by carrefour_loadgen alone, at the
# same time, with the extract's calls in flight split as its calls are (two
# of three to the national register), 10 s after 2 s of warm-up.
FIRST=$(sed -n '2p' "$WORK/entries.csv" | cut -d, -f2)
call() {
  echo "{\"request_id\": \"bench\", \"data_type\": \"$1\", \"niss\": \"$FIRST\", \"period\": {\"from\": \"2024-01-01\", \"to\": \"2024-12-31\"}, \"fields\": $2, \"requester\": \"univ\", \"legal_basis\": \"ISC/25/R99\"}"
}
NR_CONNECTIONS=$(( (CONCURRENCY * 2 + 2) / 3 ))
ONSS_CONNECTIONS=$(( CONCURRENCY - NR_CONNECTIONS > 0 ? CONCURRENCY - NR_CONNECTIONS : 1 ))
say "baseline: carrefour_loadgen straight to both providers ($NR_CONNECTIONS + $ONSS_CONNECTIONS calls in flight) ..."
"$LOADGEN" --url "https://127.0.0.1:${PORT[nr]}" --expect-cn nr --cert "$PKI/hub.crt" --key "$PKI/hub.key" \
  --ca "$PKI/ca.crt" --target /v1/provide --body "$(call person.identity '["birth_date", "sex", "nationality"]')" \
  --connections "$NR_CONNECTIONS" --duration 10 --warmup 2 --json >"$WORK/baseline-nr.json" &
LOADGEN_NR=$!
"$LOADGEN" --url "https://127.0.0.1:${PORT[onss]}" --expect-cn onss --cert "$PKI/hub.crt" --key "$PKI/hub.key" \
  --ca "$PKI/ca.crt" --target /v1/provide --body "$(call employment.wages '["quarter", "gross_wage", "days_worked"]')" \
  --connections "$ONSS_CONNECTIONS" --duration 10 --warmup 2 --json >"$WORK/baseline-onss.json"
wait "$LOADGEN_NR" || die "the baseline load generator failed"
rps() { sed -n 's/.*"requests_per_second": \([0-9.]*\).*/\1/p' "$1"; }
BASELINE=$(python3 -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" \
  "$(rps "$WORK/baseline-nr.json")" "$(rps "$WORK/baseline-onss.json")")

say "extract: $PERSONS persons x 3 data types, batches of $BATCH, $CONCURRENCY calls in flight ..."
OUT="$WORK/extract"
start=$(date +%s.%N)
"$CARREFOUR" research extract --project bench --as univ --network "$WORK/network.toml" --data "$DATA_DIR" \
  --out "$OUT" --cert "$PKI/hub.crt" --key "$PKI/hub.key" --ca "$PKI/ca.crt" \
  --batch "$BATCH" --concurrency "$CONCURRENCY" >"$WORK/extract.log" ||
  { cat "$WORK/extract.log" >&2; die "the extract failed"; }
wall=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")

echo "research extract benchmark ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), SQLite store)"
summarize "$OUT/report.json" "$wall" "$BASELINE"
