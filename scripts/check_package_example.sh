#!/usr/bin/env bash
# The README's package example, as a user follows it: a scratch package beside a folder named Backprop
# (this checkout, linked), whose Package.swift holds the README's `dependencies:` and `targets:` lines
# verbatim and whose main.swift is `import Backprop` and the README's "Tensors and autograd" example
# verbatim. `swift run` (a debug build of the library) must print exactly three lines, each written in the
# example's comments. Both blocks are found by the README text before them; a change there fails this
# script, which then says what it could not find.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The lines of the first fenced block after the first line matching $1.
block() {
    awk -v marker="$1" 'index($0, marker) { want = 1; next }
        want && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$repo/README.md"
}
manifest=$(block 'and add to your `Package.swift`:')
example=$(block '### Tensors and autograd')
[ -n "$manifest" ] || { echo "README.md: no block after 'and add to your \`Package.swift\`:'"; exit 1; }
[ -n "$example" ] || { echo "README.md: no block after '### Tensors and autograd'"; exit 1; }

ln -s "$repo" "$work/Backprop"
mkdir -p "$work/App/Sources/App"
cat > "$work/App/Package.swift" <<SWIFT
// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "App",
    platforms: [.macOS(.v15)],
$manifest
)
SWIFT
printf 'import Backprop\n\n%s\n' "$example" > "$work/App/Sources/App/main.swift"
echo "--- Package.swift"; cat "$work/App/Package.swift"
echo "--- Sources/App/main.swift"; cat "$work/App/Sources/App/main.swift"
echo "--- swift run"
start=$(date +%s)
(cd "$work/App" && swift run App) > "$work/out.txt"
echo "built and ran in $(( $(date +%s) - start )) s:"
cat "$work/out.txt"
[ "$(wc -l < "$work/out.txt")" -eq 3 ] || { echo "expected 3 lines (x.grad, then w.grad on two)"; exit 1; }
while IFS= read -r line; do
    grep -qF -- "$line" <<< "$example" || { echo "not in the README's comments: $line"; exit 1; }
done < "$work/out.txt"
echo "the README's package example builds, runs and prints what its comments say"
