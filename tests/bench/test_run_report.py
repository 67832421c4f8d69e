#!/usr/bin/env python3
"""Tests of bench/run-report's output, run by ctest (bench_run_report) in a build with benchmarks.

    test_run_report.py BUILD_DIR      (BUILD_DIR/bench holds snapheap_bench and snapheap_stack_probe)

Each case runs `bench/run-report --smoke --no-build` on a scratch build folder whose benchmark
binaries are the real ones, or a stand-in that runs the real snapheap_bench and then misbehaves:

  quiet    a progress line per benchmark group ("group k/N: <name>", with the seconds), the raw
           logs in the files it names (Google Benchmark's console output in pass-1.txt, not on the
           terminal), the report's targets, exit 0
  crash    snapheap_bench exits 3 after a last line on stderr: run-report exits 3 and prints the
           end of the log, that line included
  error    a benchmark reports an error (error_occurred in its JSON): run-report names it, writes
           the report and exits 1
  verbose  --verbose: the console output on the terminal (as well as in pass-1.txt), no progress
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_REPORT = os.path.join(HERE, "..", "..", "bench", "run-report")

# The stand-in for snapheap_bench: runs the real one with the same arguments (and the progress
# descriptor), then does what FAKE_BENCH says.
STAND_IN = r'''#!/usr/bin/env python3
import json, os, subprocess, sys
args = sys.argv[1:]
fds = [int(a.split("=", 1)[1]) for a in args if a.startswith("--progress-fd=")]
status = subprocess.run([os.environ["REAL_BENCH"]] + args, pass_fds=fds).returncode
if status != 0:
    sys.exit(status)
if os.environ["FAKE_BENCH"] == "crash":
    print("stand-in: the crash's last words", file=sys.stderr)
    sys.exit(3)
out = next(a.split("=", 1)[1] for a in args if a.startswith("--benchmark_out="))
data = json.load(open(out))
data["benchmarks"][0]["error_occurred"] = True
data["benchmarks"][0]["error_message"] = "stand-in error"
json.dump(data, open(out, "w"))
'''

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print(f"FAILED: {what}")


def scratch_build(real_build, stand_in):
    """A build folder for run-report: the real CMakeCache.txt and stack probe, and snapheap_bench
    (the real one, or the stand-in)."""
    build = tempfile.mkdtemp(prefix="snapheap-run-report-")
    os.makedirs(os.path.join(build, "bench"))
    cache = os.path.join(real_build, "CMakeCache.txt")
    if os.path.exists(cache):
        shutil.copy(cache, build)
    real_bench = os.path.join(real_build, "bench", "snapheap_bench")
    os.symlink(os.path.join(real_build, "bench", "snapheap_stack_probe"),
               os.path.join(build, "bench", "snapheap_stack_probe"))
    bench = os.path.join(build, "bench", "snapheap_bench")
    if stand_in:
        with open(bench, "w") as f:
            f.write(STAND_IN)
        os.chmod(bench, os.stat(bench).st_mode | stat.S_IXUSR)
    else:
        os.symlink(real_bench, bench)
    return build, real_bench


def run(real_build, case, *options):
    build, real_bench = scratch_build(real_build, case in ("crash", "error"))
    env = dict(os.environ, REAL_BENCH=real_bench, FAKE_BENCH=case, SNAPHEAP_BENCH_DIR=build)
    proc = subprocess.run(["bash", RUN_REPORT, "--smoke", "--no-build", "--build-dir", build,
                           "--out", os.path.join(build, "out"), *options],
                          capture_output=True, text=True, env=env)
    print(f"--- {case}: exit {proc.returncode}, {len(proc.stdout.splitlines())} lines of output")
    return build, proc


def groups_listed():
    """The group count snapheap_bench --smoke registers: main.cpp's table of register functions."""
    main = open(os.path.join(HERE, "..", "..", "bench", "main.cpp")).read()
    return len(re.findall(r'^\s*\{"[^"]+", snapbench::register_\w+\},$', main, flags=re.M))


def case_quiet(real_build):
    build, proc = run(real_build, "quiet")
    raw = os.path.join(build, "bench-report-smoke")
    out = proc.stdout
    check(proc.returncode == 0, f"quiet: exit {proc.returncode}\n{out}{proc.stderr}")
    total = groups_listed()
    check(total >= 10, f"quiet: main.cpp lists {total} groups")
    lines = re.findall(r"^\[ *\d+\.\d s\] pass 1/1, group (\d+)/(\d+): \S.*$", out, flags=re.M)
    check([int(k) for k, _ in lines] == list(range(1, total + 1)) and all(int(n) == total for _, n in lines),
          f"quiet: a progress line per group, 1/{total} to {total}/{total}: {lines}")
    for name in ("pass-1.txt", "pickle.txt", "stack.txt"):
        path = os.path.join(raw, name)
        check(os.path.exists(path), f"quiet: {path} exists")
        check(path in out, f"quiet: the output names {path}")
    console = open(os.path.join(raw, "pass-1.txt")).read()
    check("Running " in console and "Iterations" in console, "quiet: pass-1.txt holds the console output")
    check("Iterations" not in out and "Running " not in out, "quiet: no console output on the terminal")
    check(re.search(r"^\[ *\d+\.\d s\] pass 1/1 done: \d+ benchmarks$", out, flags=re.M) is not None,
          "quiet: the pass's line")
    check(re.search(r"^  \[( +met|MISSED| +n/a)\] ", out, flags=re.M) is not None, "quiet: the report's targets")
    check(os.path.exists(os.path.join(build, "out", "REPORT.md")), "quiet: REPORT.md written")
    check(len(out.splitlines()) < 60, f"quiet: {len(out.splitlines())} lines of output")
    shutil.rmtree(build)


def case_crash(real_build):
    build, proc = run(real_build, "crash")
    check(proc.returncode == 3, f"crash: exit {proc.returncode} (3 expected)")
    check("snapheap_bench (pass 1/1) failed (exit 3)" in proc.stderr, f"crash: says what failed\n{proc.stderr}")
    check("stand-in: the crash's last words" in proc.stderr, "crash: prints the end of the log")
    check(not os.path.exists(os.path.join(build, "out", "REPORT.md")), "crash: no report")
    shutil.rmtree(build)


def case_error(real_build):
    build, proc = run(real_build, "error")
    check(proc.returncode == 1, f"error: exit {proc.returncode} (1 expected)")
    check(re.search(r"^run-report: ERROR \S+: stand-in error$", proc.stderr, flags=re.M) is not None,
          f"error: names the benchmark\n{proc.stderr}")
    check(os.path.exists(os.path.join(build, "out", "REPORT.md")), "error: the report is still written")
    shutil.rmtree(build)


def case_verbose(real_build):
    build, proc = run(real_build, "verbose", "--verbose")
    check(proc.returncode == 0, f"verbose: exit {proc.returncode}\n{proc.stderr}")
    check("Iterations" in proc.stdout and "save/graph/snapheap/" in proc.stdout,
          "verbose: the console output on the terminal")
    check("group 1/" not in proc.stdout, "verbose: no progress lines")
    check(os.path.exists(os.path.join(build, "bench-report-smoke", "pass-1.txt")), "verbose: pass-1.txt too")
    shutil.rmtree(build)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    real_build = os.path.abspath(sys.argv[1])
    for case in (case_quiet, case_crash, case_error, case_verbose):
        case(real_build)
    if failures:
        print(f"{len(failures)} checks failed")
        sys.exit(1)
    print("test_run_report: all cases passed")


if __name__ == "__main__":
    main()
