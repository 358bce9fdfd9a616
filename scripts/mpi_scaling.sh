#!/usr/bin/env bash
# Data-parallel scaling on this machine, as a Markdown table for README.md ("Several processes"):
# - steps per second of `backprop train` with 1, 2 and 4 processes, one thread each (--threads 1), for the
#   MLP 784-256-10 of the README's distributed example and for examples/fashion-cnn.json, on the first
#   STEPS x BATCH Fashion-MNIST training images (a subset written as IDX files, so that one epoch is exactly
#   STEPS steps of the global batch; no validation split); the rate is that of the last of EPOCHS epochs
#   (the first one also pays for warm-up);
# - `backprop bench --allreduce` on 2 and 4 processes for the gradients of both models (their parameter
#   counts are read from the 1-process runs: 203,530 and 35,018).
# Run it on a quiet machine: every figure depends on the ranks running at the same moment.
#
#   swift build -c release --product backprop
#   scripts/mpi_scaling.sh                       # STEPS=200 EPOCHS=2 PROCS="1 2 4" by default
#   STEPS=5 EPOCHS=1 SECONDS_PER_SIZE=0.05 BACKPROP=.build/debug/backprop BENCH_FLAGS=--allow-debug \
#       scripts/mpi_scaling.sh                   # a quick check that the script works (figures meaningless)
#
# Environment: BACKPROP (binary, default .build/release/backprop), DATA (Fashion-MNIST folder, default
# /usr/share/datasets/fashion-mnist), STEPS, BATCH (64), EPOCHS, PROCS, SECONDS_PER_SIZE (bench --seconds, 2),
# MPIRUN_FLAGS (default: --oversubscribe --bind-to core:overload-allowed; add --allow-run-as-root as root),
# BENCH_FLAGS (extra flags for bench).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKPROP=${BACKPROP:-.build/release/backprop}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
STEPS=${STEPS:-200}
BATCH=${BATCH:-64}
EPOCHS=${EPOCHS:-2}
PROCS=${PROCS:-"1 2 4"}
SECONDS_PER_SIZE=${SECONDS_PER_SIZE:-2}
MPIRUN_FLAGS=${MPIRUN_FLAGS:-"--oversubscribe --bind-to core:overload-allowed"}
BENCH_FLAGS=${BENCH_FLAGS:-}
[ "$(id -u)" -ne 0 ] || case " $MPIRUN_FLAGS " in *" --allow-run-as-root "*) ;; *) MPIRUN_FLAGS="$MPIRUN_FLAGS --allow-run-as-root" ;; esac
[ -x "$BACKPROP" ] || { echo "error: $BACKPROP not found: swift build -c release --product backprop" >&2; exit 1; }
command -v mpirun > /dev/null || { echo "error: mpirun not found: apt-get install openmpi-bin libopenmpi-dev" >&2; exit 1; }
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -e "$DATA/$f" ] || [ -e "$DATA/$f.gz" ] || { echo "error: $DATA/$f(.gz) not found: apt-get install dataset-fashion-mnist" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A 32-bit big-endian integer, as IDX headers store counts.
be32() { printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 & 255)))"; }
# The first N examples of an IDX file (gzip or raw): magic, count N, the other dimensions, then the data.
subset() {   # subset FILE N HEADER_BYTES EXAMPLE_BYTES OUT
    local src=$1 n=$2 header=$3 size=$4 out=$5 cat=cat
    [ -e "$src" ] || { src=$src.gz; cat="gzip -dc"; }
    { $cat "$src" | head -c 4; be32 "$n"; $cat "$src" | head -c $((header + n * size)) | tail -c +9; } > "$out" || true
    [ "$(stat -c %s "$out")" -eq $((header + n * size)) ] || { echo "error: $src has fewer than $n examples" >&2; exit 1; }
}
n=$((STEPS * BATCH))
mkdir -p "$work/data"
subset "$DATA/train-images-idx3-ubyte" "$n" 16 784 "$work/data/train-images-idx3-ubyte"
subset "$DATA/train-labels-idx1-ubyte" "$n" 8 1 "$work/data/train-labels-idx1-ubyte"
subset "$DATA/t10k-images-idx3-ubyte" 100 16 784 "$work/data/t10k-images-idx3-ubyte"   # scored at the end: keep it short
subset "$DATA/t10k-labels-idx1-ubyte" 100 8 1 "$work/data/t10k-labels-idx1-ubyte"

train_args=(train --dataset "mnist:$work/data" --validation-split 0 --epochs "$EPOCHS" --batch-size "$BATCH" --threads 1 --progress lines)
# The model's parameter count, from its "model ... (N parameters)" line.
parameters() { sed -n 's/.*(\([0-9]*\) parameters).*/\1/p' "$1" | head -1; }
# Steps per second of the last epoch line (its samples/s over the global batch).
rate() {   # rate LOG
    awk -v b="$BATCH" '/^epoch / { for (i = 1; i < NF; i++) if ($(i + 1) == "samples/s") { s = $i; gsub(",", "", s) } }
                       END { if (s == "") exit 1; printf "%.1f", s / b }' "$1"
}
run_train() {   # run_train PROCESSES LOG ARGS...
    local p=$1 log=$2; shift 2
    if [ "$p" -eq 1 ]; then
        local pin=(); command -v taskset > /dev/null && pin=(taskset -c 0)
        "${pin[@]}" "$BACKPROP" "${train_args[@]}" "$@" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
    else
        # shellcheck disable=SC2086
        mpirun $MPIRUN_FLAGS -np "$p" "$BACKPROP" "${train_args[@]}" "$@" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
    fi
}

declare -A steps counts
for model in mlp cnn; do
    case $model in
        mlp) args=(--hidden 256) ;;
        cnn) args=(--model examples/fashion-cnn.json) ;;
    esac
    for p in $PROCS; do
        run_train "$p" "$work/$model-$p.log" "${args[@]}"
        steps[$model,$p]=$(rate "$work/$model-$p.log")
        counts[$model]=$(parameters "$work/$model-$p.log")
    done
done

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
echo "Measured $(date -u +%Y-%m-%d) on ${cpu:-this machine}, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;"
echo "$(mpirun --version 2>&1 | head -1); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); ${STEPS} steps of batch ${BATCH} per epoch, the last of ${EPOCHS} epochs."
echo
echo "| processes (1 thread each) | MLP 784-256-10 steps/s | fashion-cnn.json steps/s |"
echo "|---|---:|---:|"
for p in $PROCS; do echo "| $p | ${steps[mlp,$p]} | ${steps[cnn,$p]} |"; done
echo

sizes="${counts[mlp]},${counts[cnn]}"
echo "| processes | gradients | floats (MB) | all-reduce median | all-reduce min | \`averageGradients\` median |"
echo "|---|---|---:|---:|---:|---:|"
for p in $PROCS; do
    [ "$p" -gt 1 ] || continue
    log="$work/bench-$p.log"
    # shellcheck disable=SC2086
    mpirun $MPIRUN_FLAGS -np "$p" "$BACKPROP" bench --allreduce "$sizes" --seconds "$SECONDS_PER_SIZE" $BENCH_FLAGS > "$log" 2>&1 \
        || { cat "$log" >&2; exit 1; }
    # "   203530 floats (  0.81 MB): all-reduce    120.0 µs (min     94.0), averageGradients    950.0 µs, 100 repeats"
    awk -v p="$p" -v mlp="${counts[mlp]}" -v cnn="${counts[cnn]}" '/ floats \(/ {
            name = ($1 == mlp) ? "MLP" : ($1 == cnn) ? "CNN" : $1
            line = $0; gsub(/[(),]/, " ", line); split(line, f, " +")
            for (i = 1; i in f; i++) {
                if (f[i] == "MB") mb = f[i - 1]
                if (f[i] == "all-reduce") med = f[i + 1]
                if (f[i] == "min") mn = f[i + 1]
                if (f[i] == "averageGradients") avg = f[i + 1]
            }
            printf "| %d | %s | %d (%s) | %s µs | %s µs | %s µs |\n", p, name, $1, mb, med, mn, avg
        }' "$log"
done
