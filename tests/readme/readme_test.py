#!/usr/bin/env python3
"""The README's C++ examples compile with -Wall -Wextra -Wpedantic -Werror, link, and run.

    readme_test.py --readme README.md --cxx c++ --flags "<include flags>" --libs "<libraries>"

The first ```cpp block (Using it) is a program: its lines before the first `snapheap::Heap` go
to namespace scope and the rest into main(), which runs. The other blocks are statements that
use names the README leaves to the reader (heap, path, buffer, ostream, istream, bytes, ...):
they are compiled inside a function that declares those names, and not run.
"""
import argparse
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile

CONTEXT = """  snapheap::Heap heap;
  std::filesystem::path path = "context.snap";
  snapheap::ByteBuffer buffer;
  std::stringstream ostream;
  std::istream& istream = ostream;
  std::span<const std::byte> bytes = buffer.view();
"""


def blocks(readme):
    return re.findall(r"```cpp\n(.*?)```", readme, flags=re.S)


def program(readme):
    found = blocks(readme)
    if len(found) < 2:
        sys.exit("readme_test: expected at least two ```cpp blocks in the README")
    first = found[0].splitlines()
    split = next(i for i, line in enumerate(first) if line.startswith("snapheap::Heap"))
    top, body = first[:split], first[split:]
    out = ["#include <cassert>", "#include <filesystem>", "#include <span>", "#include <sstream>"]
    out += top
    # A fragment's results are for the reader, not used by the fragment itself.
    out.append('#pragma GCC diagnostic ignored "-Wunused-variable"')
    out.append('#pragma GCC diagnostic ignored "-Wunused-but-set-variable"')
    for n, block in enumerate(found[1:], 1):
        out.append(f"[[maybe_unused]] static void readme_block_{n}() {{")
        out.append(CONTEXT + "\n".join("  " + line for line in block.splitlines()))
        out.append("}")
    out.append('#pragma GCC diagnostic warning "-Wunused-variable"')
    out.append('#pragma GCC diagnostic warning "-Wunused-but-set-variable"')
    out.append("int main() {")
    out += ["  " + line for line in body]
    out.append("  return 0;\n}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--cxx", required=True)
    ap.add_argument("--flags", default="")
    ap.add_argument("--libs", default="")
    args = ap.parse_args()
    source = program(pathlib.Path(args.readme).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "readme.cpp"
        exe = pathlib.Path(tmp) / "readme"
        src.write_text(source)
        cmd = [args.cxx, "-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror", *shlex.split(args.flags),
               str(src), "-o", str(exe), *shlex.split(args.libs)]
        built = subprocess.run(cmd, capture_output=True, text=True)
        if built.returncode != 0:
            print(source)
            print(built.stderr)
            sys.exit("readme_test: the README's examples do not compile cleanly")
        ran = subprocess.run([str(exe)], cwd=tmp, capture_output=True, text=True)
        if ran.returncode != 0:
            print(ran.stderr)
            sys.exit(f"readme_test: the Using-it example failed (exit {ran.returncode})")
    print(f"readme_test: {len(blocks(pathlib.Path(args.readme).read_text()))} blocks compile with -Werror; "
          "the Using-it example runs")


if __name__ == "__main__":
    main()
