#!/usr/bin/env bash
# Fails when a module of the library imports a module above it (docs/ARCHITECTURE.md, "Modules").
# The order, lowest first; a module may import only modules listed before it.
set -euo pipefail
cd "$(dirname "$0")/.."
order=(CBackpropKernels BackpropCore BackpropNN BackpropData BackpropTraining BackpropTeaching Backprop BackpropBenchmarks
       BackpropCLI)
# Modules on the same level, which must not import each other.
declare -A level=([CBackpropKernels]=0 [BackpropCore]=1 [BackpropNN]=2 [BackpropData]=2 [BackpropTraining]=3
                  [BackpropTeaching]=4 [Backprop]=5 [BackpropBenchmarks]=6 [BackpropCLI]=7)
status=0
for module in "${order[@]}"; do
    dir="Sources/$module"
    [ -d "$dir" ] || continue
    while IFS=: read -r file line text; do
        imported=$(sed -E 's/^[[:space:]]*(@[_a-zA-Z]+[[:space:]]+)*import[[:space:]]+(class |struct |enum |func |protocol )?([A-Za-z_]+).*/\3/' <<<"$text")
        [ -n "${level[$imported]+x}" ] || continue   # not one of ours (Foundation, RealModule, ...)
        if [ "${level[$imported]}" -ge "${level[$module]}" ] && [ "$imported" != "$module" ]; then
            echo "$file:$line: $module imports $imported, which is not below it"
            status=1
        fi
    done < <(grep -rnE '^[[:space:]]*(@[_a-zA-Z]+[[:space:]]+)*import[[:space:]]' "$dir" --include='*.swift' --include='*.c' --include='*.h' || true)
done
# No command-line flag in a library module's sources: only BackpropCLI knows flags.
if grep -rnE '"[^"]*--[a-z][a-z-]+' Sources/BackpropCore Sources/BackpropNN Sources/BackpropData \
        Sources/BackpropTraining Sources/BackpropTeaching Sources/Backprop Sources/BackpropBenchmarks --include='*.swift'; then
    echo "a library module names a command-line flag (above): only BackpropCLI may"
    status=1
fi
# No runtime scalar-type test: what differs between Float and Double is a requirement of
# TensorScalar (or StorableScalar), answered once per type.
if grep -rnE '\.self == (Float|Double)\.self' Sources --include='*.swift'; then
    echo "a runtime scalar-type test (above): make it a requirement of the scalar type (TensorScalar)"
    status=1
fi
[ $status -eq 0 ] && echo "layers ok: every import points down, no flag names in library modules, no scalar-type tests"
exit $status
