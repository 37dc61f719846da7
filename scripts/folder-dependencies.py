#!/usr/bin/env python3
"""Which folder of Sources/DKIMKit uses which, from type references; cycles fail.

For every folder, the top-level types it declares (struct, enum, class, protocol,
actor, typealias; nested types are reached through them, and their names, such as
`Data` or `Result`, would shadow the standard library's). A folder depends on another when
one of its files names a type the other declares. Prints one line per folder with
what it uses, then the cycles (strongly connected components of more than one
folder); exit 1 when there is a cycle.

Usage: scripts/folder-dependencies.py [--root Sources/DKIMKit] [--quiet]
"""
import argparse
import os
import re
import sys

DECLARATION = re.compile(r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|internal|private|fileprivate|package|final|indirect|nonisolated)\s+)*(?:struct|enum|class|protocol|actor|typealias)\s+([A-Z]\w*)", re.M)
IDENTIFIER = re.compile(r"\b([A-Z]\w*)\b")
COMMENT = re.compile(r"//.*?$|/\*.*?\*/", re.S | re.M)
STRING = re.compile(r'"""(?:.|\n)*?"""|"(?:\\.|[^"\\\n])*"')


def sources(root):
    for folder in sorted(os.listdir(root)):
        path = os.path.join(root, folder)
        if not os.path.isdir(path):
            continue
        for directory, _, files in os.walk(path):
            for name in sorted(files):
                if name.endswith(".swift"):
                    with open(os.path.join(directory, name), encoding="utf-8") as handle:
                        text = handle.read()
                    yield folder, STRING.sub('""', COMMENT.sub("", text))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", "Sources", "DKIMKit"))
    parser.add_argument("--quiet", action="store_true", help="print only the cycles")
    args = parser.parse_args()
    files = list(sources(args.root))
    owner = {}
    for folder, text in files:
        for name in DECLARATION.findall(text):
            owner.setdefault(name, folder)
    uses = {folder: {} for folder, _ in files}
    for folder, text in files:
        for name in set(IDENTIFIER.findall(text)):
            other = owner.get(name)
            if other and other != folder:
                uses[folder].setdefault(other, set()).add(name)

    if not args.quiet:
        for folder in sorted(uses):
            used = ", ".join(f"{other} ({', '.join(sorted(names)[:4])}{'…' if len(names) > 4 else ''})"
                             for other, names in sorted(uses[folder].items()))
            print(f"{folder}: {used or '-'}")

    # Tarjan's strongly connected components.
    index, low, stack, on_stack, components, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in uses[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            components.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in sorted(uses):
        if node not in index:
            visit(node)
    cycles = [component for component in components if len(component) > 1]
    for component in cycles:
        edges = [f"{a} → {b} ({', '.join(sorted(uses[a][b])[:3])})" for a in component for b in component if b in uses[a]]
        print("cycle: " + "; ".join(edges))
    if not cycles and not args.quiet:
        print("no cycle")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
