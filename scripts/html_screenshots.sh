#!/usr/bin/env bash
# Writes the three kinds of HTML page for the homework's examples and takes a
# screenshot of each with headless Chromium (apt-get install -y chromium):
#   docs/html-graph.png    backprop graph (the seed graph), at the step where x + x sends 30 + 30 to x
#   docs/html-explain.png  backprop explain (the lab network), at the backward step of layer 2
#   docs/html-explain-conv.png  backprop explain (examples/conv2d.json), at the backward step of the conv
#   docs/html-train.png    backprop train --report (digits)
#   docs/html-moons.png    backprop train --report (moons: decision regions)
# Usage: scripts/html_screenshots.sh [OUTDIR for the pages, default a temporary folder]
# BACKPROP_BIN=.build/debug/backprop uses that build of the tool instead of building it in release.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BACKPROP_BIN:-.build/release/backprop}
[ -n "${BACKPROP_BIN:-}" ] || swift build -c release --product backprop
out=${1:-$(mktemp -d)}
mkdir -p "$out" docs
$bin graph "a = x*y + z; b = a*(x + x); w = a*b + b" --at x=1,y=2,z=3 --html "$out/graph.html" > /dev/null
$bin explain examples/lab-network.json --html "$out/explain.html" > /dev/null
$bin explain examples/conv2d.json --html "$out/explain-conv.html" > /dev/null
$bin train --dataset digits --progress none --report "$out/train.html" > /dev/null
$bin train --dataset moons --progress none --report "$out/moons.html" > /dev/null
shot() {  # FILE FRAGMENT PNG WIDTH HEIGHT
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$out/profile" --virtual-time-budget=5000 --window-size="$4,$5" \
    --screenshot="$3" "file://$(realpath "$1")#$2" 2> /dev/null
}
shot "$out/graph.html" "step=11" docs/html-graph.png 1200 1000
shot "$out/explain.html" "step=7" docs/html-explain.png 1200 1000
shot "$out/explain-conv.html" "step=11" docs/html-explain-conv.png 1200 1000
shot "$out/train.html" "step=39" docs/html-train.png 1200 1500
shot "$out/moons.html" "step=99" docs/html-moons.png 1200 2300
ls -l "$out"/*.html docs/html-*.png
