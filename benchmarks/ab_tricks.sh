#!/usr/bin/env bash
# Interleaved A/B runs of the window benchmark, with and without each speed trick:
#     QT_QPA_PLATFORM=offscreen bash benchmarks/ab_tricks.sh [ROUNDS] [TRICK ...] > ab.log
# For each round and trick, `bench_gui.py --quick --without none` and `--without TRICK` back to
# back (the order swapped every other round); prints the benchmark's summary line of each run
# (load average at its end, lowest repaints per second, longest stall, training share of headless,
# first paint, GUI thread's CPU share).  About 30-60 s a run (by the load): 2 tricks x 2 rounds, ~5 minutes.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-$here/../.venv/bin/python}"
rounds="${1:-2}"; shift || true
tricks=("$@")
[ ${#tricks[@]} -eq 0 ] && tricks=(cpp-bounds wrapped-lines)
for ((r = 1; r <= rounds; r++)); do
    for t in "${tricks[@]}"; do
        if ((r % 2)); then order=(none "$t"); else order=("$t" none); fi
        for arm in "${order[@]}"; do
            echo "round $r $(date +%T) $("$python" "$here/bench_gui.py" --quick --without "$arm" 2>&1 | grep '^summary' \
                || echo "summary without=$arm FAILED")"
        done
    done
done
