#!/usr/bin/env bash
# Run the config-parser fuzzer for a bounded time:
#   tests/fuzz/run_fuzz.sh FUZZER WORKDIR DICT SEED_DIR...
# Seeds: the *.ini files of each SEED_DIR, copied into WORKDIR/corpus (which
# keeps what earlier runs found).  PD_FUZZ_SECONDS (default 60) bounds the
# run.  Exits 0 iff libFuzzer found no crash, leak, timeout or invariant
# violation; a crashing input is left in WORKDIR/crash-* and printed.
set -uo pipefail
[ $# -ge 3 ] || {
  echo "usage: $0 FUZZER WORKDIR DICT SEED_DIR..." >&2
  exit 2
}
fuzzer=$1
work=$2
dict=$3
shift 3
mkdir -p "$work/corpus"
for d in "$@"; do
  for f in "$d"/*.ini; do
    [ -f "$f" ] && cp "$f" "$work/corpus/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
  done
done
echo "corpus: $(find "$work/corpus" -type f | wc -l) files"
rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
seconds=${PD_FUZZ_SECONDS:-60}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -rss_limit_mb=2048 -dict="$dict" -artifact_prefix="$work/" \
  -print_final_stats=1 "$work/corpus" >"$work/fuzz.log" 2>&1
rc=$?
grep -E '^#[0-9]+ +(INITED|DONE)|^stat::|^Done' "$work/fuzz.log"
if [ $rc -ne 0 ]; then
  tail -n 60 "$work/fuzz.log"
  for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [ -f "$f" ] || continue
    echo "----- reproducer $f (base64) -----"
    base64 "$f"
  done
  echo "FAIL: the fuzzer exited $rc"
  exit 1
fi
echo "no crash in ${seconds}s"
