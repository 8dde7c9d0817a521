#!/usr/bin/env bash
# Prints which top-level modules of src/ import which (`crate::NAME` outside comments), then
# counts the import cycles and the upward imports against the layers src/lib.rs states.
# `--check` exits 1 when either count is not 0 (tests/layers.rs runs it that way).
set -euo pipefail
cd "$(dirname "$0")/.."

# The layers, lowest first; keep in step with src/lib.rs and docs/architecture.md. A module may
# import its own layer and the ones below; a module missing here is reported as unplaced.
LAYERS='
0 duration clock model sys untrusted_file pidfile exec pool random redact journal learning evidence document exit
1 actions config checks service_files policy
2 store lock facts
3 agents notify metrics fleet
4 phases
5 web mcp commands cli properties
'

edges() {
  local module files
  for module in $(ls src | sed 's/\.rs$//' | sort -u); do
    [ "$module" = lib ] || [ "$module" = main ] && continue
    files=$( { [ -d "src/$module" ] && find "src/$module" -name '*.rs'; [ -f "src/$module.rs" ] && echo "src/$module.rs"; } || true)
    # shellcheck disable=SC2086 # one word per file
    grep -hv '^\s*//' $files | grep -oE 'crate::[a-z_]+' | sed 's/^crate:://' | sort -u |
      while read -r target; do
        [ "$target" != "$module" ] && echo "$module $target"
      done || true # a module importing nothing
    echo "$module"
  done
}

edges | LAYERS="$LAYERS" python3 -c '
import os, sys

layer = {}
for line in os.environ["LAYERS"].strip().splitlines():
    number, *modules = line.split()
    for module in modules:
        layer[module] = int(number)

graph = {}
for line in sys.stdin:
    words = line.split()
    graph.setdefault(words[0], set())
    if len(words) == 2:
        graph[words[0]].add(words[1])

print("module graph (module [layer] -> imports):")
for module in sorted(graph):
    targets = " ".join(sorted(graph[module])) or "-"
    print(f"  {module} [{layer.get(module, chr(63))}] -> {targets}")

# Tarjan: every strongly connected component of more than one module is a cycle.
index, low, stack, on_stack, cycles = {}, {}, [], set(), []
def connect(v):
    index[v] = low[v] = len(index)
    stack.append(v); on_stack.add(v)
    for w in graph.get(v, ()):
        if w not in index:
            connect(w); low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop(); on_stack.discard(w); component.append(w)
            if w == v: break
        if len(component) > 1:
            cycles.append(sorted(component))
for v in sorted(graph):
    if v not in index:
        connect(v)

upward = [(m, t) for m in sorted(graph) for t in sorted(graph[m])
          if m in layer and t in layer and layer[t] > layer[m]]
unplaced = sorted(m for m in graph if m not in layer)

print(f"cycles: {len(cycles)}")
for component in cycles:
    print("  " + " <-> ".join(component))
print(f"upward imports: {len(upward)}")
for m, t in upward:
    print(f"  {m} [{layer[m]}] -> {t} [{layer[t]}]")
print(f"unplaced modules: {len(unplaced)}" + ("  " + " ".join(unplaced) if unplaced else ""))
if "--check" in sys.argv[1:] and (cycles or upward or unplaced):
    sys.exit(1)
' "$@"
