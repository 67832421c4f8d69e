#!/usr/bin/env python3
"""Writes bench/results/REPORT.md and its SVG charts from one run of bench/run-report.

    bench/report.py --bench pass-1.json [--bench pass-2.json ...] [--scaling scaling.json] \\
                    --pickle pickle.json --stack stack.json --meta meta.json --out bench/results \\
                    [--readme README.md]
    bench/report.py --from-raw bench/results/raw --out bench/results [--readme README.md]
    bench/report.py --from-raw bench/results/raw --out bench/results --readme README.md --check

Inputs: snapheap_bench's JSON, one file per pass (Google Benchmark, with repetitions and
aggregates), optionally one from `snapheap_bench --scaling` (10^6 and 10^7 side by side) and one
from `snapheap_bench --huge` (10^6 and 10^8 side by side); the JSON of pickle_bench.py, of snapheap_stack_probe and of run-report (machine and run facts). Output:
REPORT.md (machine, targets met or missed, a table per workload, scaling, memory, notes),
ratios.svg (time ratios per workload, log scale) and scaling.svg (time per element against
element count, log-log); with --readme, the README's table of figures (between its
"benchmark figures" markers), every figure as REPORT.md prints it. run-report keeps the inputs in
bench/results/raw/, so the report and the README's figures can be regenerated from them, and
--check verifies that the committed ones match. Standard library only; the SVG is written by
hand.

Each time is the median over the passes (within a pass, the median over its repetitions). Each
ratio is taken within a pass, where the systems of a workload run one right after the other, and
the report gives the median of those per-pass ratios. In-memory work is compared by the thread's
CPU time (the machine is shared, and CPU time does not count the time other processes hold the
core); the file benchmarks wait for the disk and are compared by wall time. The scaling check
compares 10^7 with 10^6 as measured side by side in the scaling run.
"""

import argparse
import datetime
import html
import json
import math
import os
import re
import statistics

MILLION = 1_000_000
TEN_MILLION = 10_000_000
HUNDRED_MILLION = 100_000_000
HUGE_LIMIT = 1.3  # t(1e8) / (100 t(1e6)) asked of snapheap's figures
WALL_GROUPS = {"save_file", "load_file"}
REFERENCE = "snapheap"
FLOORS = {"memcpy", "floor"}  # systems that are a lower bound, not a competitor
TIME_FIELDS = {"real_time", "cpu_time"}
STANDARD_FIELDS = {
    "name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
    "real_time", "cpu_time", "time_unit", "aggregate_name", "aggregate_unit", "family_index",
    "per_family_instance_index", "label", "error_occurred", "error_message",
}
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}

# (group, workload): title, what is timed, whether first-touch costs are in it.
WORKLOADS = [
    ("alloc", "small", "Allocate 1M small objects (24 bytes of fields)",
     "Timed: n allocations, a handle kept to each. Warm for every system: the heap (or malloc arena, "
     "or Boehm heap) is reused, an untimed round of the n allocations runs first, and the handles are "
     "dropped and the memory reclaimed untimed between iterations. snapheap includes the automatic collections its "
     "default trigger policy starts while the heap fills (collections_per_iteration); "
     "snapheap_no_auto_gc shows pure allocation. malloc: malloc only (free untimed)."),
    ("collect", "live_chain", "Full collection, 1M live objects in a chain (mark cost)",
     "Timed: heap.collect() / GC_gcollect() with every object reachable. Warm: the same heap collected "
     "again and again. Boehm: one marker thread (snapheap marks on one thread)."),
    ("collect", "live_graph", "Full collection, 1M live objects in a random graph (mark cost)",
     "The benchmark graph: every node held by a root object (a GC_MALLOC'ed array for Boehm), a strong "
     "edge to a random earlier node and a weak edge (a disappearing link for Boehm) to a random node at "
     "or before it. The chain has no weak edges, and a collector has work to do for each weak one, so "
     "the graph is also measured without them: *_no_weak (strong edges only; boehm_no_weak's ratio is "
     "to snapheap_no_weak)."),
    ("collect", "dead_chain", "Collecting 1M dead objects in a chain (sweep cost)",
     "Rebuilt untimed every iteration in the reused heap, then the root dropped. Timed: the collection "
     "(snapheap, Boehm: GC_gcollect frees wholly empty blocks and sweeps the rest lazily, at later "
     "allocations), dropping the shared_ptr chain iteratively (a recursive teardown of a long chain "
     "overflows the stack), or free() of a malloc'ed chain node by node (free: the floor)."),
    ("collect", "dead_graph", "Collecting 1M dead objects in a random graph (sweep cost)",
     "As dead_chain, on the benchmark graph; shared_ptr: the vector holding the nodes is dropped (edges "
     "point backwards, so the destructor recursion stays shallow). *_no_weak: the graph without its weak "
     "edges, as in live_graph (boehm_no_weak's ratio is to snapheap_no_weak)."),
    ("weak", "half_dead", "1M weak handles, half the targets die: collect, then check every handle",
     "Timed, the same steps for each system: releasing the odd half's handles (snapheap: Strong::reset; "
     "weak_ptr: shared_ptr::reset, which also destroys the object; Boehm: clearing the root), the death "
     "(snapheap: collect(); Boehm: GC_gcollect(); weak_ptr: none left) and lock() (or a link read) on "
     "all 1M handles."),
    ("save", "payload", "Save the 1M-element int64 payload to memory",
     "snapheap: save(heap, ByteBuffer) into a reused buffer, checksum included. memcpy: the same 8 MB into "
     "a warm destination (the floor). Boost/cereal: binary archives of the same std::vector<int64_t> over "
     "a memory streambuf writing into a reused std::vector<char>. snapheap_stream: save(heap, std::ostream) over "
     "that same kind of streambuf."),
    ("load", "payload", "Load the 1M-element int64 payload from memory",
     "snapheap: load into a reused heap, checksum verified; the restored root is dropped untimed. "
     "Boost/cereal: into a new std::vector (resize zero-fills, then one block read). snapheap_stream: "
     "load(heap, std::istream) over the bytes, a streambuf that can seek; snapheap_pipe: one that cannot."),
    ("save", "graph", "Save a 1M-node graph (strong + weak edge per node) to memory",
     "snapheap: a Graph root holding std::vector<Member<Node>>. Boost/cereal: "
     "std::vector<std::shared_ptr<SNode>> with std::weak_ptr peers. Edges point backwards so the "
     "baselines recurse shallowly; on a long chain they overflow the stack (see the stack probe). "
     "snapheap_stream: save(heap, std::ostream) over a memory streambuf. floor: a hand-written loop over "
     "the same snapheap nodes that writes the value and both edges as varints, pads to the snapshot's "
     "size and hashes it all with XXH3-64 (no serializer: what a save must do at least)."),
    ("load", "graph", "Load the 1M-node graph from memory",
     "snapheap: into a reused heap. Boost/cereal: into a new vector; links are cut untimed before the "
     "result is dropped. snapheap_stream / snapheap_pipe: load(heap, std::istream) that can seek / cannot."),
    ("save", "graph_chain", "Save the graph's second shape: a 1M-node strong chain, a random weak edge per node",
     "Node i's strong edge goes to node i - 1, its weak edge to a random node at or before it; the same "
     "systems, setup and floor as the graph. Boost and cereal still recurse shallowly (each node's "
     "predecessor is written before it), and the chain is their easy case."),
    ("load", "graph_chain", "Load the chain-shaped graph from memory", "As the graph's load."),
    ("save", "seed_weak", "The seed scenario: save only the model (a layer with a weak handle to the 1M payload)",
     "snapheap writes the weak handle as a tombstone and leaves the payload out. Boost and cereal save a "
     "weak_ptr by locking it, so the whole payload is written; pickle refuses the weakref."),
    ("load", "seed_weak", "The seed scenario: load the model",
     "snapheap restores an expired weak handle. Boost and cereal read the payload back, resurrect it, and "
     "it dies as soon as the archive lets go of it."),
    ("save", "seed_external", "The seed's strong variant: save the model with its 1M payload as an external root",
     "snapheap: save(heap, buffer, {.roots={\"model\"}, .external={\"large_data\"}}): the layer's Member is "
     "written as a reference to the root's name. snapheap_with_payload: {.roots={\"model\"}}, the payload "
     "written with the model. pickle: a Pickler whose persistent_id names the payload (and, for scale, "
     "the payload pickled along)."),
    ("load", "seed_external", "The seed's strong variant: load the model beside an existing payload",
     "snapheap: into a heap holding its own 1M \"large_data\", which the load binds the Member to; the "
     "restored model is dropped untimed. snapheap_with_payload: the payload read back as a copy. pickle: "
     "an Unpickler whose persistent_load returns the process's own payload."),
    ("save", "chain", "Save a 1M-node linked chain",
     "Boost and cereal are not run: they recurse once per link and overflow the stack (see the stack "
     "probe). pickle needs its recursion limit raised and a 4 GiB thread stack."),
    ("load", "chain", "Load the 1M-node chain", ""),
    ("save_file", "payload", "Save the payload to a file (with and without fsync) vs to memory",
     "Wall time (waits for the disk). save(heap, path): a temporary file written and fsynced, renamed "
     "over the target, the directory fsynced; no_fsync: the same without the two fsyncs. fwrite_fsync: "
     "the baseline, the same snapshot bytes written with fopen + fwrite + fflush + fsync + fclose in the "
     "same directory."),
    ("load_file", "payload", "Load the payload from the file vs from memory",
     "Wall time; the file was written just before (so it is read from the page cache). fread: the "
     "baseline, fopen + fread of the whole file into a warm buffer + fclose."),
    ("save_file", "graph", "Save the graph to a file vs to memory", "Wall time."),
    ("load_file", "graph", "Load the graph from the file vs from memory",
     "Wall time; the file was written just before (so it is read from the page cache)."),
]
# What the cppgc baseline (V8's C++ collector, bench/cppgc_baseline.hpp) does in a workload, added
# to its note only where a run measured cppgc (a build without the unpacked libnode has no rows).
CPPGC = "cppgc"
CPPGC_NOTES = {
    ("alloc", "small"): "cppgc: MakeGarbageCollected with a cppgc::Persistent to each object, in a heap that "
                        "collects stop-the-world (atomic marking and sweeping) when its growth heuristics say so; "
                        "a full collection between iterations.",
    ("collect", "live_chain"): "cppgc: ForceGarbageCollectionSlow without stack scanning (atomic marking and "
                               "sweeping), the root a cppgc::Persistent.",
    ("collect", "live_graph"): "cppgc: the nodes in a std::vector<Member> of a root object, the weak edge a "
                               "WeakMember (cppgc_no_weak's ratio is to snapheap_no_weak).",
    ("collect", "dead_chain"): "cppgc: ForceGarbageCollectionSlow, sweeping finished on return.",
    ("collect", "dead_graph"): "cppgc: ForceGarbageCollectionSlow, sweeping finished on return.",
    ("weak", "half_dead"): "cppgc: clearing the Persistent, ForceGarbageCollectionSlow and a read of every weak "
                           "handle: WeakMember fields of one live holder (cppgc) or cppgc::WeakPersistent handles "
                           "(cppgc_weak_persistent).",
}
FILE_REFERENCE = {"save_file": "snapheap_memory", "load_file": "snapheap_memory"}
# A baseline variant compared with snapheap's variant doing the same work, not with snapheap itself.
VARIANT_SUFFIXES = ("_no_weak",)


def reference_for(group, system, present):
    """The system `system`'s ratio is taken against: snapheap (or the file group's reference), or
    snapheap's variant of the same kind when the baseline is a variant and snapheap has it."""
    ref = FILE_REFERENCE.get(group, REFERENCE)
    if system.startswith(REFERENCE):
        return ref
    for suffix in VARIANT_SUFFIXES:
        if system.endswith(suffix) and REFERENCE + suffix in present:
            return REFERENCE + suffix
    return ref
# Workloads whose element count is not what the systems process (snapheap leaves the payload out).
NO_RATE = {("save", "seed_weak"), ("load", "seed_weak"), ("save", "seed_external"), ("load", "seed_external")}
# A timed figure "includes first-touch costs" from this many page faults per iteration (256 KiB).
FIRST_TOUCH_FAULTS = 64

# ---- reading ------------------------------------------------------------------------------------


class Measure:
    """One benchmark at one size: medians over repetitions (or the single run)."""

    def __init__(self, key, entry):
        self.group, self.workload, self.system, self.n = key
        median = entry.get("median")
        runs = entry.get("runs", [])
        if median is None:
            median = self._median_of(runs)
        self.repetitions = int(median.get("repetitions", len(runs) or 1)) if median else 0
        self.error = entry.get("error")
        scale = UNIT_SECONDS[median.get("time_unit", "ns")] if median else 0
        self.cpu = median["cpu_time"] * scale if median else math.nan
        self.real = median["real_time"] * scale if median else math.nan
        self.counters = {k: v for k, v in (median or {}).items()
                         if k not in STANDARD_FIELDS and isinstance(v, (int, float))}
        cv = entry.get("cv")
        field = "real_time" if self.group in WALL_GROUPS else "cpu_time"
        self.cv = cv[field] if cv else None
        self.label = (median or {}).get("label", "") or next((r.get("label", "") for r in runs if r.get("label")), "")

    @staticmethod
    def _median_of(runs):
        runs = [r for r in runs if not r.get("error_occurred")]
        if not runs:
            return None
        out = dict(runs[0])
        for k, v in runs[0].items():
            if isinstance(v, (int, float)) and k not in ("repetitions", "threads", "family_index",
                                                         "per_family_instance_index", "repetition_index"):
                out[k] = statistics.median(r.get(k, v) for r in runs)
        out["repetitions"] = len(runs)
        return out

    @property
    def time(self):
        """The compared time, in seconds: wall for file benchmarks, CPU otherwise."""
        return self.real if self.group in WALL_GROUPS else self.cpu

    @property
    def per_element(self):
        return self.time / self.n


class Combined:
    """One benchmark at one size over the passes: medians, and the per-pass measures for ratios."""

    def __init__(self, key, per_pass):
        self.group, self.workload, self.system, self.n = key
        self.passes = per_pass  # aligned with the pass files; None where a pass lacks it
        valid = [m for m in per_pass if m and not m.error and not math.isnan(m.time)]
        self.error = None if valid else next((m.error for m in per_pass if m and m.error), "not measured")
        self.cpu = statistics.median(m.cpu for m in valid) if valid else math.nan
        self.real = statistics.median(m.real for m in valid) if valid else math.nan
        keys = {k for m in valid for k in m.counters}
        self.counters = {k: statistics.median(m.counters[k] for m in valid if k in m.counters) for k in keys}
        if len(valid) >= 2:
            times = [m.time for m in valid]
            self.cv = statistics.stdev(times) / statistics.mean(times)
            self.spread = "passes"
        else:
            self.cv = valid[0].cv if valid else None
            self.spread = "repetitions"
        self.label = next((m.label for m in valid if m.label), "")
        self.repetitions = sum(m.repetitions for m in valid)

    @property
    def time(self):
        return self.real if self.group in WALL_GROUPS else self.cpu

    @property
    def per_element(self):
        return self.time / self.n


def combine(passes):
    keys = {k for p in passes for k in p}
    return {k: Combined(k, [p.get(k) for p in passes]) for k in keys}


def load_bench(path):
    with open(path) as f:
        data = json.load(f)
    entries = {}
    for b in data["benchmarks"]:
        name = b.get("run_name", b["name"])
        parts = name.split("/")
        if len(parts) < 4 or not parts[3].isdigit():
            continue
        key = (parts[0], parts[1], parts[2], int(parts[3]))
        e = entries.setdefault(key, {"runs": []})
        if b.get("error_occurred"):
            e["error"] = b.get("error_message", "error")
        if b.get("run_type") == "aggregate":
            e[b["aggregate_name"]] = b
        else:
            e["runs"].append(b)
    measures = {k: Measure(k, e) for k, e in entries.items()}
    return data.get("context", {}), measures


def read_json(path):
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


# ---- formatting ---------------------------------------------------------------------------------


def fmt_time(s):
    if s is None or math.isnan(s):
        return "–"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            v = s / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt_rate(x):
    if x is None or math.isnan(x) or x <= 0:
        return "–"
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {suffix}/s"
    return f"{x:.3g} /s"


def fmt_bytes(b):
    if b is None:
        return "–"
    if b >= 10_000:
        return f"{b:,.0f}"
    return f"{b:.4g}"


def fmt_ratio(r):
    if r is None or math.isnan(r):
        return "–"
    return f"{r:.3g}×" if r < 1000 else f"{r:,.0f}×"


# ---- the measurements asked for -------------------------------------------------------------------


class Report:
    def __init__(self, context, passes, scaling, pickle, stack, meta, huge=None):
        self.context, self.pickle, self.stack, self.meta = context, pickle, stack, meta or {}
        self.pass_count = len(passes)
        self.m = combine(passes)
        self.scaling_m = scaling or {}
        self.huge_m = huge or {}
        # The element count of the tables (10^6; run-report --smoke runs every benchmark at 10^3).
        self.n = int(self.meta.get("table_elements", MILLION))

    def get(self, group, workload, system, n=None):
        m = self.m.get((group, workload, system, self.n if n is None else n))
        return m if m and not m.error and not math.isnan(m.time) else None

    def ratio(self, group, workload, num, den, n=None):
        """num's time over den's: the median of the ratios taken within each pass."""
        a, b = self.get(group, workload, num, n), self.get(group, workload, den, n)
        if not a or not b:
            return None
        pairs = [x.time / y.time for x, y in zip(a.passes, b.passes)
                 if x and y and not x.error and not y.error and y.time > 0 and not math.isnan(x.time)]
        return statistics.median(pairs) if pairs else None

    def ratio_range(self, group, workload, num, den, n=None):
        """The lowest and highest per-pass ratio (None with fewer than two passes)."""
        a, b = self.get(group, workload, num, n), self.get(group, workload, den, n)
        if not a or not b:
            return None
        pairs = [x.time / y.time for x, y in zip(a.passes, b.passes)
                 if x and y and not x.error and not y.error and y.time > 0 and not math.isnan(x.time)]
        return (min(pairs), max(pairs)) if len(pairs) >= 2 else None

    def systems(self, group, workload, n=None):
        n = self.n if n is None else n
        found = [k[2] for k in self.m if k[0] == group and k[1] == workload and k[3] == n]
        ref = FILE_REFERENCE.get(group, REFERENCE)
        return sorted(found, key=lambda s: (s != ref, not s.startswith("snapheap"), s))

    def pickle_rows(self, group, workload):
        """(system label, Measure-like dict) rows for pickle, for the tables and the ratio chart."""
        if not self.pickle:
            return []
        w = self.pickle["workloads"]
        n = self.pickle["elements"]
        direction = "dumps" if group == "save" else "loads"
        source = {"payload": "payload", "graph": "graph", "seed_weak": "seed_strong", "chain": "chain",
                  "seed_external": "seed_strong_persistent_id"}.get(workload)
        if group not in ("save", "load") or source is None or source not in w:
            return []
        rows = []
        if workload == "chain" and group == "save" and "chain_default_limit" in w:
            rows.append(("pickle (default recursion limit)", {"error": w["chain_default_limit"].get("error"), "n": n}))
        if workload == "graph" and group == "save" and "graph_weak" in w:
            rows.append(("pickle (peer a weakref)", {"error": w["graph_weak"].get("error"), "n": n}))
        if workload == "seed_weak" and group == "save" and "seed_weak" in w:
            rows.append(("pickle (the seed's weakref)", {"error": w["seed_weak"].get("error"), "n": n}))
        entry = w[source]
        name = {"graph": "pickle (peer strong)", "seed_weak": "pickle (strong variant)",
                "chain": "pickle (limit raised, big stack)", "seed_external": "pickle (persistent_id)"}.get(workload, "pickle")
        if f"{direction}_cpu_s" not in entry:
            rows.append((name, {"error": entry.get("error") or "not measured", "skipped": entry.get("skipped"), "n": n}))
        else:
            rows.append((name, {"cpu": entry[f"{direction}_cpu_s"], "real": entry[f"{direction}_wall_s"],
                                "bytes": entry.get("bytes"), "n": n}))
        if workload == "seed_external" and "seed_strong" in w and f"{direction}_cpu_s" in w["seed_strong"]:
            whole = w["seed_strong"]
            rows.append(("pickle (payload included)", {"cpu": whole[f"{direction}_cpu_s"], "real": whole[f"{direction}_wall_s"],
                                                       "bytes": whole.get("bytes"), "n": n}))
        return rows

    # ---- targets ----------------------------------------------------------------------------------

    def targets(self):
        t = []

        def add(text, value, ok, shown):
            t.append({"text": text, "value": value, "ok": ok, "shown": shown})

        def time_target(text, group, workload, num, den, limit, faster=False):
            r = self.ratio(group, workload, num, den)
            span = self.ratio_range(group, workload, num, den)
            if r is None:
                add(text, None, None, "not measured")
            elif faster:
                add(text, r, r >= limit, f"{r:.1f}× faster" + (f" ({span[0]:.1f}–{span[1]:.1f} over the passes)" if span else ""))
            else:
                add(text, r, r <= limit, f"{r:.2f}×" + (f" ({span[0]:.2f}–{span[1]:.2f} over the passes)" if span else ""))

        time_target("Payload save to memory ≤ 2× memcpy of the same bytes (checksum included)",
                    "save", "payload", "snapheap", "memcpy", 2.0)
        time_target("Payload load from memory ≤ 2.5× memcpy", "load", "payload", "snapheap", "memcpy", 2.5)
        # The stream paths against the ByteBuffer/bytes paths (bench_snapshot_payload.cpp, _graph.cpp):
        # snapheap_stream can seek, snapheap_pipe cannot.
        for workload, what in (("payload", "Payload"), ("graph", "Graph")):
            time_target(f"{what} save to a std::ostream ≤ 1.2× save to a ByteBuffer",
                        "save", workload, "snapheap_stream", "snapheap", 1.2)
            time_target(f"{what} load from a seekable std::istream ≤ 1.2× load from bytes",
                        "load", workload, "snapheap_stream", "snapheap", 1.2)
            time_target(f"{what} load from a std::istream that cannot seek ≤ 1.2× load from bytes",
                        "load", workload, "snapheap_pipe", "snapheap", 1.2)
        time_target("Payload save to a file with sync ≤ 1.3× fwrite + fsync of the same bytes (same directory)",
                    "save_file", "payload", "snapheap_fsync", "fwrite_fsync", 1.3)
        time_target("Payload load from a cached file ≤ 1.5× fread of it",
                    "load_file", "payload", "snapheap_file", "fread", 1.5)
        for workload, what in (("graph", "Graph (random strong edges)"), ("graph_chain", "Graph (strong chain + weak edges)")):
            for group, verb in (("save", "save"), ("load", "load")):
                time_target(f"{what} {verb} ≥ 15× faster than cereal", group, workload, "cereal", "snapheap", 15, True)
                time_target(f"{what} {verb} ≥ 40× faster than Boost", group, workload, "boost", "snapheap", 40, True)
            time_target(f"{what} save ≤ 2.5× the floor (a hand-written loop writing and hashing the same bytes)",
                        "save", workload, "snapheap", "floor", 2.5)
        g = self.get("save", "graph", "snapheap")
        bpn = g.counters.get("bytes_per_node") if g else None
        add("Graph snapshot ≤ 16 bytes per node", bpn, None if bpn is None else bpn <= 16,
            f"{bpn:.2f} bytes/node" if bpn is not None else "not measured")
        s = self.get("save", "seed_weak", "snapheap")
        sb = s.counters.get("snapshot_bytes") if s else None
        others = {sys: self.get("save", "seed_weak", sys) for sys in ("boost", "cereal")}
        others_b = {k: v.counters.get("snapshot_bytes") for k, v in others.items() if v}
        ok = (None if sb is None or len(others_b) < 2 else
              sb < 200 and all(b > 8e6 for b in others_b.values()))
        add("Seed scenario: snapheap < 200 bytes where Boost and cereal write > 8 MB", sb, ok,
            f"snapheap {sb:.0f} B; Boost {others_b.get('boost', 0):,.0f} B; cereal {others_b.get('cereal', 0):,.0f} B"
            if sb is not None else "not measured")
        time_target("Full collection, 1M live objects (chain) ≤ 0.5× Boehm GC_gcollect",
                    "collect", "live_chain", "snapheap", "boehm", 0.5)
        time_target("Full collection, 1M live objects (random graph) ≤ 0.5× Boehm GC_gcollect",
                    "collect", "live_graph", "snapheap", "boehm", 0.5)
        time_target("Collecting 1M dead objects (chain) ≤ 0.75× shared_ptr teardown",
                    "collect", "dead_chain", "snapheap", "shared_ptr_teardown", 0.75)
        time_target("Collecting 1M dead objects (random graph) ≤ 0.75× shared_ptr teardown",
                    "collect", "dead_graph", "snapheap", "shared_ptr_teardown", 0.75)
        time_target("Allocation no slower than std::make_shared (warm; snapheap with its automatic collections)",
                    "alloc", "small", "snapheap", "make_shared", 1.0)
        time_target("Fresh heap after destroyed heaps within 1.15× of a reused heap: allocating 1M objects",
                    "alloc", "small", "snapheap_fresh_heap", "snapheap", 1.15)
        time_target("Fresh heap after destroyed heaps within 1.15× of a reused heap: loading the 1M graph",
                    "load", "graph", "snapheap_fresh_heap", "snapheap", 1.15)
        scaling = self.scaling()
        ours = [s for s in scaling if s["system"].startswith("snapheap") and s["ratio"] is not None]
        if not ours:
            add("Every snapheap figure at 1e7 within 1.3× of linear scaling from 1e6", None, None,
                "not measured (no 1e7 runs)")
        else:
            worst = max(ours, key=lambda s: s["ratio"])
            missed = [s for s in ours if s["ratio"] > 1.3]

            def one(s):
                floor = floor_scaling(self, s)
                return f"{s['family']} {s['ratio']:.2f}×" + (f" (memcpy itself {floor:.2f}×)" if floor else "")

            shown = (f"worst {worst['ratio']:.2f}× ({worst['family']}); "
                     + (f"{len(missed)} of {len(ours)} over 1.3×: " + ", ".join(one(s) for s in missed) if missed
                        else f"all {len(ours)} within 1.3×"))
            add("Every snapheap figure at 1e7 within 1.3× of linear scaling from 1e6", worst["ratio"],
                not missed, shown)
        rows = [r for r in self.huge() if r["system"].startswith(REFERENCE)]
        text = (f"Every snapheap figure at 1e8 within {HUGE_LIMIT}× of linear from 1e6 "
                "(where memcpy of the same bytes is)")
        if not rows:
            add(text, None, None, "not measured (no 1e8 run)")
        else:
            over = [r for r in rows if r["verdict"] == "over"]
            memory = [r for r in rows if r["verdict"] == "memory system"]
            worst = max(rows, key=lambda r: r["ratio"])
            shown = (f"worst {worst['ratio']:.2f}× ({worst['family']}); "
                     + (f"{len(over)} of {len(rows)} over {HUGE_LIMIT}×: " + ", ".join(
                         f"{r['family']} {r['ratio']:.2f}×" for r in over) if over
                        else f"all {len(rows)} within {HUGE_LIMIT}×"
                        + (f" or within {HUGE_LIMIT}× of their floor's own growth ({len(memory)})" if memory else "")))
            add(text, worst["ratio"], not over, shown)
        return t

    def huge(self):
        """Per family of the 10^8 run: t(1e8) / (100 t(1e6)), both from that run, and the verdict:
        'met' (within HUGE_LIMIT), 'memory system' (over it, but within HUGE_LIMIT of the growth of
        the same workload's floor, memcpy or the hand-written loop, measured in the same run), or
        'over'. Floors and baselines get no verdict."""
        sizes = {}
        for (g, w, s, n), m in self.huge_m.items():
            # memory/: its time is a cold fill, and its figures are the counters (huge_section's facts).
            if g != "memory" and not m.error and not math.isnan(m.time) and m.time > 0:
                sizes.setdefault((g, w, s), {})[n] = m
        rows = []
        for (g, w, s), by_n in sorted(sizes.items()):
            if MILLION not in by_n or HUNDRED_MILLION not in by_n:
                continue
            rows.append({"family": f"{g}/{w}/{s}", "group": g, "workload": w, "system": s,
                         "small": by_n[MILLION], "huge": by_n[HUNDRED_MILLION],
                         "ratio": by_n[HUNDRED_MILLION].time / (100 * by_n[MILLION].time)})
        floors = {(r["group"], r["workload"]): r["ratio"] for r in rows if r["system"] in FLOORS}
        for r in rows:
            r["floor"] = floors.get((r["group"], r["workload"])) if r["system"] not in FLOORS else None
            if not r["system"].startswith(REFERENCE):
                r["verdict"] = None
            elif r["ratio"] <= HUGE_LIMIT:
                r["verdict"] = "met"
            elif r["floor"] and r["ratio"] <= HUGE_LIMIT * r["floor"]:
                r["verdict"] = "memory system"
            else:
                r["verdict"] = "over"
        return rows

    def scaling(self):
        """Per family: time per element at every size (10^7 from the scaling run), and
        t(1e7) / (10 t(1e6)) with both from the scaling run (measured side by side)."""
        families = {}
        for (g, w, s, n), m in self.m.items():
            if m.error or math.isnan(m.time) or g in ("memory", "containers"):
                continue
            families.setdefault((g, w, s), {})[n] = m
        side_by_side = {}
        for (g, w, s, n), m in self.scaling_m.items():
            if m.error or math.isnan(m.time):
                continue
            side_by_side.setdefault((g, w, s), {})[n] = m
            if n == TEN_MILLION or (g, w, s) not in families:
                families.setdefault((g, w, s), {})[n] = m
        out = []
        for (g, w, s), sizes in sorted(families.items()):
            if len(sizes) < 2:
                continue
            pair = side_by_side.get((g, w, s), sizes)
            r = None
            if MILLION in pair and TEN_MILLION in pair:
                r = pair[TEN_MILLION].time / (10 * pair[MILLION].time)
            out.append({"family": f"{g}/{w}/{s}", "group": g, "workload": w, "system": s, "sizes": sizes,
                        "pair": pair if r is not None else None, "ratio": r})
        return out


# ---- SVG ----------------------------------------------------------------------------------------

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#ad494a"]


def esc(s):
    return html.escape(str(s), quote=True)


def svg(width, height, body):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="11">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n{body}</svg>\n')


def log_span(values, pad=0.0):
    lo = math.floor(math.log10(min(values)) - pad)
    hi = math.ceil(math.log10(max(values)) + pad)
    return lo, max(hi, lo + 1)


def ratio_chart(report):
    """Horizontal bars: baseline time / snapheap time per workload (log scale), target marks."""
    rows = []
    limits = {("save", "graph", "cereal"): 15, ("save", "graph", "boost"): 40,
              ("load", "graph", "cereal"): 15, ("load", "graph", "boost"): 40,
              ("save", "graph_chain", "cereal"): 15, ("save", "graph_chain", "boost"): 40,
              ("load", "graph_chain", "cereal"): 15, ("load", "graph_chain", "boost"): 40,
              ("save", "payload", "memcpy"): 0.5, ("load", "payload", "memcpy"): 0.4,
              ("collect", "live_chain", "boehm"): 2, ("collect", "live_graph", "boehm"): 2,
              ("collect", "dead_chain", "shared_ptr_teardown"): 1 / 0.75,
              ("collect", "dead_graph", "shared_ptr_teardown"): 1 / 0.75,
              ("alloc", "small", "make_shared"): 1}
    for group, workload, *_ in WORKLOADS:
        if group in WALL_GROUPS:  # file against memory: not a comparison with a baseline
            continue
        ref_name = REFERENCE
        ref = report.get(group, workload, ref_name)
        if not ref:
            continue
        present = report.systems(group, workload)
        for system in present:
            if system.startswith(REFERENCE):  # snapheap itself and its variants
                continue
            r = report.ratio(group, workload, system, reference_for(group, system, present))
            if r:
                rows.append((f"{group}/{workload}", system, r, limits.get((group, workload, system))))
        for name, p in report.pickle_rows(group, workload):
            if "cpu" in p and ref.time > 0:
                rows.append((f"{group}/{workload}", name, (p["cpu"] / p["n"]) / (ref.time / ref.n), None))
    if not rows:
        return svg(400, 40, '<text x="10" y="25">no ratios</text>')
    values = [r[2] for r in rows] + [r[3] for r in rows if r[3]]
    lo, hi = log_span(values)
    left, bar_w, row_h, top = 330, 560, 18, 56
    width, height = left + bar_w + 90, top + row_h * len(rows) + 50

    def x(v):
        return left + (math.log10(v) - lo) / (hi - lo) * bar_w

    body = [f'<text x="10" y="20" font-size="14" font-weight="bold">Baseline time ÷ snapheap time, '
            f'1M elements (log scale; right of 1: snapheap is faster)</text>',
            f'<text x="10" y="38" fill="#555">Median of the per-pass ratios of one run, CPU time. Black tick: '
            f'the target (green: met, red: missed; blue: no target). memcpy is the floor: below 1 by design.</text>']
    for e in range(lo, hi + 1):
        xe = x(10 ** e)
        body.append(f'<line x1="{xe:.1f}" y1="{top - 4}" x2="{xe:.1f}" y2="{top + row_h * len(rows)}" '
                    f'stroke="{"#000" if e == 0 else "#ddd"}" stroke-width="{1.5 if e == 0 else 1}"/>')
        body.append(f'<text x="{xe:.1f}" y="{top + row_h * len(rows) + 16}" text-anchor="middle">'
                    f'{esc(fmt_ratio(10 ** e))}</text>')
    previous = None
    for i, (workload, system, r, limit) in enumerate(rows):
        y = top + i * row_h
        if workload != previous:
            body.append(f'<line x1="10" y1="{y}" x2="{left + bar_w}" y2="{y}" stroke="#bbb"/>')
            previous = workload
        color = "#6b8fb5"  # no target: information
        if limit is not None:
            color = "#2a9d4a" if r >= limit else "#c0392b"
        x0, x1 = x(1), x(r)
        body.append(f'<rect x="{min(x0, x1):.1f}" y="{y + 3}" width="{abs(x1 - x0):.1f}" height="{row_h - 6}" '
                    f'fill="{color}" opacity="0.85"/>')
        body.append(f'<text x="{left - 6}" y="{y + row_h - 5}" text-anchor="end">{esc(workload)}: '
                    f'{esc(system)}</text>')
        text_x = max(x0, x1, x(limit) if limit is not None else 0) + 4
        body.append(f'<text x="{text_x:.1f}" y="{y + row_h - 5}">{esc(fmt_ratio(r))}</text>')
        if limit is not None:
            xl = x(limit)
            body.append(f'<line x1="{xl:.1f}" y1="{y + 1}" x2="{xl:.1f}" y2="{y + row_h - 1}" stroke="#000" '
                        f'stroke-width="2.5"/>')
    return svg(width, height, "\n".join(body) + "\n")


def scaling_chart(report):
    """Log-log: time per element (ns) against element count, one panel per group."""
    scaling = report.scaling()
    panels = [("alloc", "Allocation"), ("collect", "Collection"), ("weak", "Weak handles"),
              ("save", "Save to memory"), ("load", "Load from memory")]
    pw, ph, margin = 600, 360, 20
    cols = 2
    rows_n = math.ceil(len(panels) / cols)
    width, height = cols * pw + (cols + 1) * margin, rows_n * ph + (rows_n + 1) * margin + 40
    body = ['<text x="20" y="28" font-size="14" font-weight="bold">Time per element against element count '
            '(log-log; flat = linear scaling). Medians; CPU time; 10^7 from the scaling run.</text>']
    for p, (group, title) in enumerate(panels):
        fams = [s for s in scaling if s["group"] == group]
        if not fams:
            continue
        ox = margin + (p % cols) * (pw + margin)
        oy = 40 + margin + (p // cols) * (ph + margin)
        plot_x, plot_y, plot_w, plot_h = ox + 60, oy + 32, 300, ph - 76
        ys = [m.per_element * 1e9 for f in fams for m in f["sizes"].values() if m.per_element > 0]
        xs = [n for f in fams for n in f["sizes"]]
        ylo, yhi = log_span(ys)
        xlo, xhi = log_span(xs)

        def px(n):
            return plot_x + (math.log10(n) - xlo) / (xhi - xlo) * plot_w

        def py(v):
            return plot_y + plot_h - (math.log10(v) - ylo) / (yhi - ylo) * plot_h

        body.append(f'<rect x="{ox}" y="{oy}" width="{pw}" height="{ph}" fill="none" stroke="#ccc"/>')
        body.append(f'<text x="{ox + 10}" y="{oy + 17}" font-size="13" font-weight="bold">{esc(title)}'
                    f'<tspan font-weight="normal" fill="#555">\u00a0— time per element</tspan></text>')
        for e in range(ylo, yhi + 1):
            yy = py(10 ** e)
            body.append(f'<line x1="{plot_x}" y1="{yy:.1f}" x2="{plot_x + plot_w}" y2="{yy:.1f}" stroke="#eee"/>')
            body.append(f'<text x="{plot_x - 5}" y="{yy + 4:.1f}" text-anchor="end">{esc(fmt_time(10 ** e * 1e-9))}</text>')
        for e in range(xlo, xhi + 1):
            xx = px(10 ** e)
            body.append(f'<line x1="{xx:.1f}" y1="{plot_y}" x2="{xx:.1f}" y2="{plot_y + plot_h}" stroke="#eee"/>')
            body.append(f'<text x="{xx:.1f}" y="{plot_y + plot_h + 14}" text-anchor="middle">1e{e}</text>')
        body.append(f'<text x="{plot_x + plot_w / 2}" y="{plot_y + plot_h + 30}" text-anchor="middle" '
                    f'fill="#555">elements</text>')
        body.append(f'<rect x="{plot_x}" y="{plot_y}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
        for i, f in enumerate(fams):
            color = PALETTE[i % len(PALETTE)]
            dash = "" if f["system"].startswith("snapheap") else ' stroke-dasharray="5,3"'
            pts = sorted(f["sizes"].items())
            path = " ".join(f"{px(n):.1f},{py(m.per_element * 1e9):.1f}" for n, m in pts if m.per_element > 0)
            body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
            for n, m in pts:
                body.append(f'<circle cx="{px(n):.1f}" cy="{py(m.per_element * 1e9):.1f}" r="2.5" fill="{color}"/>')
            ly = plot_y + 4 + i * 14
            name = f["family"].split("/", 1)[1]
            body.append(f'<line x1="{plot_x + plot_w + 12}" y1="{ly}" x2="{plot_x + plot_w + 32}" y2="{ly}" '
                        f'stroke="{color}" stroke-width="2"{dash}/>')
            body.append(f'<text x="{plot_x + plot_w + 36}" y="{ly + 4}" font-size="10">{esc(name)}</text>')
    return svg(width, height, "\n".join(body) + "\n")


# ---- markdown -----------------------------------------------------------------------------------


def cell(s):
    """Text for a Markdown table cell."""
    return str(s).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def code(s):
    """A code span for a Markdown table cell (entities would show literally inside it)."""
    return "`" + str(s).replace("`", "'").replace("|", "\\|") + "`"


def fmt_kib(kib):
    return f"{kib // 1024} MiB" if kib >= 1024 and kib % 1024 == 0 else f"{kib} KiB"


def cache_list(ctx):
    """The caches Google Benchmark read from the machine (its JSON context), as text."""
    return ", ".join(f"L{c['level']} {c['type'].lower()} {fmt_kib(c['size'] // 1024)}"
                     + (f" (×{c['num_sharing']} sharing)" if c.get("num_sharing", 0) > 1 else "")
                     for c in ctx.get("caches", []))


# The baselines' Debian packages, as run-report records them (meta.json "packages", read with
# dpkg-query from the packages that own the headers the suite was built against).
PACKAGE_LABELS = [("boost_serialization", "Boost.Serialization"), ("cereal", "cereal"), ("boehm_gc", "Boehm GC"),
                  ("google_benchmark", "Google Benchmark")]
# The cppgc baseline's package (unpacked by tools/install-deps, not installed), named only where
# run-report recorded it.
CPPGC_PACKAGE = ("cppgc", "V8's cppgc, Node.js")


def package_text(meta, key, label):
    p = (meta.get("packages") or {}).get(key)
    if not p or not p.get("version"):
        return f"{label} (version not recorded)"
    return f"{label} {p['version']} (`{p.get('package', '?')}`)"


def machine_section(report):
    ctx, meta = report.context, report.meta
    # Read by run-report when the suite ran (not from the machine that regenerates the report).
    cpu = meta.get("cpu_model") or "not recorded"
    mem = f"{int(meta['memory_kib']) / 2 ** 20:.1f} GiB" if meta.get("memory_kib") else "not recorded"
    caches = cache_list(ctx)
    secs = meta.get("seconds", {})
    cores = ctx.get("num_cpus", "?")
    lines = [
        "| | |", "|---|---|",
        f"| Date | {cell(ctx.get('date', '?'))} |",
        f"| Run | `bench/run-report{' --short' if meta.get('mode') == 'short' else ''}` ({cell(meta.get('mode', '?'))}): "
        f"{meta.get('passes', 1)} pass(es) of {meta.get('repetitions', '?')} repetition(s)"
        + (f" (1 for the slowest baselines)" if str(meta.get('heavy_repetitions', 0)) == '1' and meta.get('repetitions', 1) != 1 else "")
        + (f", then a scaling run of {meta.get('scaling_repetitions')} repetitions (10^6 and 10^7 side by side)"
           if meta.get('scaling_repetitions') else "")
        + f"; --benchmark_min_time={meta.get('min_time', '?')}; pickle repetitions {meta.get('pickle_repetitions', '?')} |",
        f"| CPU | {cell(cpu)}, {cores} cores at {ctx.get('mhz_per_cpu', '?')} MHz; {cell(caches)} |",
        f"| Memory | {mem} |",
        f"| Kernel | {cell(meta.get('kernel', '?'))} |",
        f"| Compiler | {cell(ctx.get('compiler', meta.get('cxx', '?')))} |",
        f"| Build | CMAKE_BUILD_TYPE={cell(ctx.get('snapheap_build_type', meta.get('cmake_build_type', '?')))}, "
        f"flags `{cell(ctx.get('snapheap_cxx_flags', '').strip())}`; "
        f"{package_text(meta, 'google_benchmark', 'Google Benchmark')}, a "
        f"{cell(ctx.get('library_build_type', '?'))} build of the library (it only runs the loop) |",
        f"| snapheap commit | `{cell(meta.get('git_commit', '?'))}`"
        + (f" with {meta.get('git_dirty_library')} uncommitted library files" if str(meta.get('git_dirty_library', '0')) != '0' else "")
        + " |",
        f"| Baselines | " + ", ".join(package_text(meta, k, l) for k, l in PACKAGE_LABELS[:3])
        + f" ({cell(ctx.get('boehm_markers', '1'))} marker thread), "
        + (package_text(meta, *CPPGC_PACKAGE) + " (unpacked, not installed), "
           if (meta.get("packages") or {}).get(CPPGC_PACKAGE[0]) else "")
        + "glibc malloc (set to keep freed memory: "
        f"{cell(ctx.get('malloc_keeps_freed_memory', '?'))}), Python "
        f"{cell((report.pickle or {}).get('python', '?'))} pickle protocol {(report.pickle or {}).get('protocol', '?')} |",
        f"| Load average | {cell(meta.get('loadavg_start', '?'))} at the start, {cell(meta.get('loadavg_end', '?'))} "
        f"at the end ({cores} cores; compare CPU times and ratios, not wall times) |",
        f"| File benchmarks | {cell(meta.get('bench_dir_fs', '?'))} file system |",
        f"| Wall time | suite {secs.get('suite', '?')} s, pickle {secs.get('pickle', '?')} s, stack probe "
        f"{secs.get('stack_probe', '?')} s; total {secs.get('total_without_build', '?')} s (build not counted) |",
    ]
    return "\n".join(lines)


def extras(m):
    skip = {"items_per_second", "bytes_per_second", "snapshot_bytes", "bytes_per_node", "page_faults_per_iteration"}
    parts = []
    for k, v in sorted(m.counters.items()):
        if k in skip:
            continue
        parts.append(f"{k}={v:.4g}")
    return ", ".join(parts)


def workload_table(report, group, workload):
    ref_name = FILE_REFERENCE.get(group, REFERENCE)
    ref = report.get(group, workload, ref_name)
    rows = ["| system | time (median) | wall (median) | cv | items/s | bytes | faults/iter | ratio | other counters |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    first_touch = []
    present = report.systems(group, workload)
    for system in present:
        m = report.m[(group, workload, system, report.n)]
        if m.error:
            rows.append(f"| {system} | error: {cell(m.error)} | | | | | | | |")
            continue
        wall_note = "" if group in WALL_GROUPS else ""
        b = m.counters.get("snapshot_bytes")
        bytes_cell = fmt_bytes(b) if b is not None else "–"
        if "bytes_per_node" in m.counters:
            bytes_cell += f" ({m.counters['bytes_per_node']:.2f}/node)"
        faults = m.counters.get("page_faults_per_iteration")
        if faults is not None and faults >= FIRST_TOUCH_FAULTS:
            first_touch.append(f"{system} (about {faults * 4096 / 2 ** 20:.0f} MiB faulted in, "
                               f"{faults:.0f} faults)")
        against = reference_for(group, system, present)
        r = report.ratio(group, workload, system, against) if system != ref_name else None
        span = report.ratio_range(group, workload, system, against) if system != ref_name else None
        if system == ref_name:
            ratio = "reference"
        elif r:
            if system in FLOORS:
                ratio = f"snapheap = {fmt_ratio(1 / r)} this"
                if span:
                    ratio += f" ({1 / span[1]:.3g}–{1 / span[0]:.3g})"
            else:
                ratio = f"{fmt_ratio(r)} {against}'s time"
                if span:
                    ratio += f" ({span[0]:.3g}–{span[1]:.3g})"
        else:
            ratio = "–"
        cv = f"{m.cv * 100:.1f}%" if m.cv is not None else "–"
        rate = "–" if (group, workload) in NO_RATE else fmt_rate(m.n / m.time)
        rows.append(f"| **{system}** | {fmt_time(m.time)} | {fmt_time(m.real)}{wall_note} | {cv} | "
                    f"{rate} | {bytes_cell} | "
                    f"{'–' if faults is None else f'{faults:.0f}'} | {ratio} | {cell(extras(m))} |")
    for name, p in report.pickle_rows(group, workload):
        if "error" in p:
            what = "not run (--short)" if p.get("skipped") else f"fails: {code(p['error'])}"
            rows.append(f"| {cell(name)} | {what} | | | | | | | |")
            continue
        r = p["cpu"] / ref.time if ref and ref.time > 0 else None  # another process: not paired
        rate = "–" if (group, workload) in NO_RATE else fmt_rate(p["n"] / p["cpu"])
        rows.append(f"| {cell(name)} | {fmt_time(p['cpu'])} | {fmt_time(p['real'])} | – | {rate} | "
                    f"{fmt_bytes(p.get('bytes'))} | – | {fmt_ratio(r)} {ref_name}'s time | separate process |")
    return "\n".join(rows), first_touch


def memory_table(report):
    cols = ["bytes_per_object", "cell_bytes_per_object", "table_bytes_per_object", "heap_bytes_per_object",
            "rss_bytes_per_object", "peak_rss_bytes"]
    rows = ["| system | " + " | ".join(c.replace("_", " ") for c in cols) + " |",
            "|---|" + "---:|" * len(cols)]
    for system in report.systems("memory", "small"):
        m = report.get("memory", "small", system)
        if not m:
            continue
        cells = []
        for c in cols:
            v = m.counters.get(c)
            cells.append("–" if v is None else (f"{v / 2 ** 20:.0f} MiB" if c == "peak_rss_bytes" else f"{v:.1f}"))
        rows.append(f"| **{system}** | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def floor_scaling(report, s):
    """The memcpy floor's own 1e7 / (10 x 1e6) in the same workload, if it was measured."""
    for f in report.scaling():
        if f["group"] == s["group"] and f["workload"] == s["workload"] and f["system"] in FLOORS and f["ratio"]:
            return f["ratio"]
    return None


def scaling_prose(report):
    """What the scaling table shows and how it was measured, from the run's facts."""
    reps = report.meta.get("scaling_repetitions")
    scaling = report.scaling()
    text = ("Flat rows scale linearly. 10^3 to 10^6 come from the passes; "
            + (f"the scaling run measures 10^6 and 10^7 one right after the other ({reps} repetitions), and "
               "the last column is t(10^7) ÷ (10 × t(10^6)) from that run; "
               if reps else "there was no scaling run (no 10^7 figures); ")
            + "the target asks ≤ 1.3 for snapheap's figures. Where memcpy was measured on the same bytes, "
            "its own ratio follows: memcpy has no algorithm to scale, so growth it shares comes from the "
            "machine's memory system, not from snapheap's algorithm.")
    caches = cache_list(report.context)
    if caches:
        text += (f" The payload is 8 bytes per element (8 MB at 10^6, 80 MB at 10^7); the caches the machine "
                 f"reports: {caches}.")
    stopped = sorted(s["family"] for s in scaling if TEN_MILLION not in s["sizes"] and MILLION in s["sizes"])
    if stopped and reps:
        text += " Measured up to 10^6 only (to keep the run short): " + ", ".join(stopped) + "."
    return text


def huge_section(report):
    """The 10^8 run: what it measured, a row per family, the memory it took."""
    rows = report.huge()
    if not rows:
        return ["There was no 10^8 run (`bench/run-report` runs one in its full mode, after the scaling run; "
                "`--no-huge` leaves it out).", ""]
    reps = report.meta.get("huge_repetitions")
    text = ("`snapheap_bench --huge` measures every family below at 10^6 and at 10^8 one right after the other"
            + (f" (repetitions: {reps}; one iteration each at 10^8)" if reps else "")
            + ", in a process with glibc's default malloc settings (freed gigabytes go back to the system "
            "before the next benchmark). The last columns are t(10^8) ÷ (100 × t(10^6)) and the same for the "
            f"workload's floor (memcpy of the payload's bytes, or the hand-written loop over the graph's nodes) "
            f"where there is one: a snapheap figure is **met** within {HUGE_LIMIT}×, put down to the "
            f"**memory system** when its floor grows as much (within {HUGE_LIMIT}× of the floor's own ratio: "
            "the floor has no algorithm to scale, so what it shares comes from caches, TLBs and DRAM), and "
            "**over** otherwise. Times per element; the same clock as the tables (CPU time, wall for files). "
            "*faults/iter* counts the page faults in the timed region at 10^8: a figure with many includes "
            "first-touch costs (memory malloc maps afresh, or pages the heap gave back while idle).")
    out = [text, "", "| benchmark | 1e6 per element | 1e8 per element | 1e8 ÷ (100 × 1e6) | floor's | verdict "
           "| faults/iter at 1e8 |", "|---|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        verdict = {"met": "met", "memory system": "memory system", "over": "**over**", None: "–"}[r["verdict"]]
        floor = f"{r['floor']:.2f}×" if r["floor"] else "–"
        faults = r["huge"].counters.get("page_faults_per_iteration")
        out.append(f"| {cell(r['family'])} | {fmt_time(r['small'].per_element)} | {fmt_time(r['huge'].per_element)} "
                   f"| {r['ratio']:.2f}× | {floor} | {verdict} | {'–' if faults is None else f'{faults:,.0f}'} |")
    facts = []
    mem = {n: m for (g, w, s, n), m in report.huge_m.items() if (g, w, s) == ("memory", "small", REFERENCE)}
    if HUNDRED_MILLION in mem and "bytes_per_object" in mem[HUNDRED_MILLION].counters:
        big = mem[HUNDRED_MILLION].counters
        facts.append(f"Bytes per small object at 10^8: {big['bytes_per_object']:.1f} by the heap's count"
                     + (f", {big['rss_bytes_per_object']:.1f} as resident memory added" if "rss_bytes_per_object" in big else "")
                     + (f" (at 10^6 in the same run: {mem[MILLION].counters['bytes_per_object']:.1f})"
                        if MILLION in mem and "bytes_per_object" in mem[MILLION].counters else "") + ".")
    peaks = [m.counters["peak_rss_bytes"] for m in report.huge_m.values() if "peak_rss_bytes" in m.counters]
    if peaks:
        total = report.meta.get("memory_kib")
        facts.append(f"Peak resident memory of the whole 10^8 run: {max(peaks) / 2**30:.1f} GiB"
                     + (f" of the machine's {total / 2**20:.1f} GiB" if total else "") + ".")
    if facts:
        out += ["", " ".join(facts)]
    return out + [""]


def scaling_table(report):
    scaling = report.scaling()
    sizes = sorted({n for s in scaling for n in s["sizes"] if n < TEN_MILLION})
    side = any(s["pair"] for s in scaling)
    head = ("| benchmark | " + " | ".join(f"{n:.0e}".replace("e+0", "e") for n in sizes)
            + (" | 1e6 (scaling run) | 1e7 (scaling run) " if side else "") + " | 1e7 ÷ (10 × 1e6) |")
    rows = [head, "|---|" + "---:|" * (len(sizes) + (3 if side else 1))]
    for s in scaling:
        cells = [fmt_time(s["sizes"][n].per_element) if n in s["sizes"] else "" for n in sizes]
        if side:
            pair = s["pair"] or {}
            cells += [fmt_time(pair[n].per_element) if n in pair else "" for n in (MILLION, TEN_MILLION)]
        if s["ratio"] is None:
            verdict = "–"
        else:
            mark = "met" if s["ratio"] <= 1.3 else "**over 1.3×**"
            verdict = f"{s['ratio']:.2f}× ({mark})" if s["system"].startswith("snapheap") else f"{s['ratio']:.2f}×"
            floor = floor_scaling(report, s) if s["system"] not in FLOORS else None
            if floor:
                verdict += f"; memcpy {floor:.2f}×"
        rows.append(f"| {cell(s['family'])} | " + " | ".join(cells) + f" | {verdict} |")
    return "\n".join(rows)


# What snapheap uses for each container job (bench/bench_containers.cpp measures the alternatives).
CONTAINER_CHOICES = [
    ("mark_stack", "boost_vector", "The collector's work list and the snapshot writer's queue"),
    ("scratch_ids", "boost_vector_default_init", "A snapshot's per-object scratch arrays, sized per save"),
    ("root_insert", "std_map", "The root registry: set_root with new names"),
    ("root_lookup", "std_map", "The root registry: root<T>(name)"),
    ("root_snapshot_order", "std_map", "The root registry: every root in name order, for save()"),
]


def containers_summary(report):
    """What the container measurements show, in words, from the measurements."""
    parts = []
    n = report.n
    scratch = report.ratio("containers", "scratch_ids", "std_vector", "boost_vector_default_init", n)
    stack = report.ratio("containers", "mark_stack", "std_vector", "boost_vector", n)
    if scratch is not None:
        parts.append(f"Where `default_init` leaves a per-save scratch array unzeroed, `std::vector` takes "
                     f"{fmt_ratio(scratch)} the Boost vector's time")
    if stack is not None:
        if stack < 1:
            parts.append(f"on the work list, where there is nothing to leave unzeroed, `std::vector` takes "
                         f"{fmt_ratio(stack)} its time: the Boost vector is {(1 / stack - 1) * 100:.0f}% slower there")
        else:
            parts.append(f"on the work list, where there is nothing to leave unzeroed, `std::vector` takes "
                         f"{fmt_ratio(stack)} its time")
    text = "; ".join(parts) + "." if parts else ""
    sizes = sorted({k[3] for k in report.m if k[:2] == ("containers", "root_insert")})
    if sizes:
        big = sizes[-1]
        flat = report.get("containers", "root_insert", "boost_flat_map", big)
        tree = report.get("containers", "root_insert", "std_map", big)
        if flat and tree:
            text += (f" The root registry is a `std::map`: `boost::container::flat_map` inserts in O(n), and "
                     f"{big:,} new roots took it {fmt_time(flat.time)} against the map's {fmt_time(tree.time)}.")
    return text.strip()


def containers_table(report):
    rows = ["| job | elements | container | time (median) | per element | ratio to the choice |",
            "|---|---:|---|---:|---:|---|"]
    for workload, choice, what in CONTAINER_CHOICES:
        sizes = sorted({k[3] for k in report.m if k[0] == "containers" and k[1] == workload})
        for n in sizes:
            for system in sorted({k[2] for k in report.m if k[:2] == ("containers", workload) and k[3] == n},
                                 key=lambda s: (s != choice, s)):
                m = report.get("containers", workload, system, n)
                if not m:
                    continue
                if system == choice:
                    ratio = "**snapheap's choice**"
                else:
                    r = report.ratio("containers", workload, system, choice, n)
                    ratio = f"{fmt_ratio(r)}" if r else "–"
                rows.append(f"| {cell(what)} | {n:,} | {code(system)} | {fmt_time(m.time)} | "
                            f"{fmt_time(m.per_element)} | {ratio} |")
    return "\n".join(rows) if len(rows) > 2 else None


# bench/bench_weak_maps.cpp: (group, workload, what is measured). Each other system's ratio is its
# time over snapheap's (the reference), within each pass, as in the workload tables.
WEAK_MAP_WORKLOADS = [
    ("weak_map", "set", "WeakKeyMap::set of every key"),
    ("weak_map", "get", "WeakKeyMap::get of every key"),
    ("weak_map", "collect_half", "half the keys die"),
    ("weak_value_map", "get", "WeakValueMap::get of every key"),
    ("weak_value_map", "expire_half", "half the values die"),
    ("death", "register", "an on_death registration per object"),
    ("death", "half_fire", "half the watched objects die"),
]


def difference(report, group, workload, a, b, n=None):
    """a's time minus b's, in seconds: the median of the differences taken within each pass."""
    x, y = report.get(group, workload, a, n), report.get(group, workload, b, n)
    if not x or not y:
        return None
    diffs = [p.time - q.time for p, q in zip(x.passes, y.passes)
             if p and q and not p.error and not q.error and not math.isnan(p.time) and not math.isnan(q.time)]
    return statistics.median(diffs) if diffs else None


def fmt_signed_time(s):
    if s is None:
        return "–"
    return ("−" if s < 0 else "") + fmt_time(abs(s))


def weak_maps_table(report):
    rows = ["| workload | system | timed | time (median) | per element | ratio | other counters |",
            "|---|---|---|---:|---:|---|---|"]
    for group, workload, what in WEAK_MAP_WORKLOADS:
        present = report.systems(group, workload)
        for system in present:
            m = report.m[(group, workload, system, report.n)]
            if m.error:
                rows.append(f"| {group}/{workload}: {cell(what)} | {code(system)} | | error: {cell(m.error)} | | | |")
                continue
            if system == REFERENCE:
                ratio = "reference"
            else:
                r = report.ratio(group, workload, system, REFERENCE)
                span = report.ratio_range(group, workload, system, REFERENCE)
                ratio = f"{fmt_ratio(r)} snapheap's time" if r else "–"
                if r and span:
                    ratio += f" ({span[0]:.3g}–{span[1]:.3g})"
            rows.append(f"| {group}/{workload}: {cell(what)} | {code(system)} | {cell(m.label)} | {fmt_time(m.time)} | "
                        f"{fmt_time(m.per_element)} | {ratio} | {cell(extras(m))} |")
    return "\n".join(rows) if len(rows) > 2 else None


def weak_maps_summary(report):
    """The derived figures: what the map adds to a collection per dead entry, per callback run."""
    n = report.n
    dead = n - (n + 1) // 2
    parts = []

    def per(group, workload, system, name):
        m = report.get(group, workload, system)
        return m.counters.get(name) if m else None

    key_map = difference(report, "weak_map", "collect_half", "snapheap", "snapheap_no_map")
    if key_map is not None and dead:
        drop = per("weak_map", "collect_half", "snapheap", "drop_ns_per_dead_entry")
        parts.append(f"A WeakKeyMap adds {fmt_signed_time(key_map / dead)} per dead entry to the collection that "
                     f"kills half its keys (collect_half: snapheap − snapheap_no_map, the median of the per-pass "
                     f"differences, over {dead:,} dead entries)"
                     + (f", of which the next size() dropping them takes {fmt_time(drop * 1e-9)}" if drop is not None else ""))
    value_map = difference(report, "weak_value_map", "expire_half", "snapheap", "snapheap_no_map")
    if value_map is not None and dead:
        parts.append(f"a WeakValueMap adds {fmt_signed_time(value_map / dead)} per expired entry (expire_half: "
                     "snapheap − snapheap_no_map)")
    reg = per("death", "register", "snapheap", "ns_per_registration")
    kept = per("death", "register", "snapheap_kept", "ns_per_registration")
    if reg is not None:
        parts.append(f"on_death() costs {fmt_time(reg * 1e-9)} per registration detached"
                     + (f", {fmt_time(kept * 1e-9)} kept in a std::vector<DeathWatch>" if kept is not None else ""))
    fire = difference(report, "death", "half_fire", "snapheap", "snapheap_no_callbacks")
    cb = per("death", "half_fire", "snapheap", "callbacks_per_iteration")
    paired = per("death", "half_fire", "snapheap", "ns_per_callback")
    if fire is not None and cb:
        parts.append(f"a callback run costs {fmt_signed_time(fire / cb)} (half_fire: snapheap − snapheap_no_callbacks "
                     f"over {cb:,.0f} callbacks)"
                     + (f"; {fmt_signed_time(paired * 1e-9)} paired within each iteration (ns_per_callback)"
                        if paired is not None else ""))
    return ("; ".join(parts) + ".") if parts else ""


def chain_sizes_text(report):
    """The chain lengths snapheap saved and loaded in this run (it does not recurse)."""
    sizes = sorted({k[3] for k in list(report.m) + list(report.scaling_m)
                    if k[:3] in (("save", "chain", "snapheap"), ("load", "chain", "snapheap"))})
    if not sizes:
        return ""
    return (f"snapheap saved and loaded chains of up to {sizes[-1]:,} nodes in this run (save/chain, "
            "load/chain) without recursion.")


# ---- the README's figures -------------------------------------------------------------------------

README_BEGIN = "<!-- benchmark figures: generated by bench/report.py from bench/results/raw; do not edit -->"
README_END = "<!-- end of the generated benchmark figures -->"


class Figures:
    """The figures of the README's table, each formatted exactly as REPORT.md prints it (so that
    every number in the README can be found in the report)."""

    def __init__(self, report):
        self.r = report

    def time(self, group, workload, system):
        m = self.r.get(group, workload, system)
        return fmt_time(m.time) if m else None

    def ratio(self, group, workload, system):
        """system's time over its reference's, as the workload table prints it."""
        present = self.r.systems(group, workload)
        if system not in present:
            return None
        r = self.r.ratio(group, workload, system, reference_for(group, system, present))
        if r is None:
            return None
        return fmt_ratio(1 / r) if system in FLOORS else fmt_ratio(r)

    def counter(self, group, workload, system, name):
        m = self.r.get(group, workload, system)
        return m.counters.get(name) if m else None

    def pickle_same_graph(self):
        """Whether pickle's graph had the C++ graph's edges (pickle_bench.py records it)."""
        return (self.r.pickle or {}).get("graph_edges") == "graph_spec"

    def pickle_ratio(self, group, workload):
        if workload == "graph" and not self.pickle_same_graph():
            return None  # another graph: not comparable
        ref = self.r.get(group, workload, REFERENCE)
        for name, p in self.r.pickle_rows(group, workload):
            if "cpu" in p and ref and ref.time > 0:
                return fmt_ratio(p["cpu"] / ref.time)
        return None

    def pickle_refuses(self, workload):
        w = (self.r.pickle or {}).get("workloads", {})
        key = {"graph": "graph_weak", "seed_weak": "seed_weak"}[workload]
        e = w.get(key, {}).get("error")
        return e.split(":")[0] if e else None


def join_parts(parts):
    return "; ".join(p for p in parts if p)


def readme_block(report):
    """The README's benchmark figures: a table and what the report says snapheap misses, every
    figure taken from the report."""
    f = Figures(report)
    meta = report.meta
    rows = []

    def row(what, ours, against):
        if ours:
            rows.append(f"| {what} | {ours} | {against or '–'} |")

    def both(a, b, sep=" and "):
        return f"{a}{sep}{b}" if a and b else None

    # Payload to and from memory.
    row("save the int64 payload to memory, XXH3 checksum included", f.time("save", "payload", "snapheap"),
        join_parts([f"{f.ratio('save', 'payload', 'memcpy')} the time of `memcpy` of the same bytes"
                    if f.ratio("save", "payload", "memcpy") else None,
                    f"Boost and cereal (no checksum) take {both(f.ratio('save', 'payload', 'boost'), f.ratio('save', 'payload', 'cereal'))} "
                    "snapheap's time" if both(f.ratio('save', 'payload', 'boost'), f.ratio('save', 'payload', 'cereal')) else None]))
    row("load the payload, checksum verified", f.time("load", "payload", "snapheap"),
        join_parts([f"{f.ratio('load', 'payload', 'memcpy')} `memcpy`'s time" if f.ratio("load", "payload", "memcpy") else None,
                    f"Boost and cereal take {both(f.ratio('load', 'payload', 'boost'), f.ratio('load', 'payload', 'cereal'))} "
                    "snapheap's time" if both(f.ratio('load', 'payload', 'boost'), f.ratio('load', 'payload', 'cereal')) else None]))
    # The graph.
    bpn = f.counter("save", "graph", "snapheap", "bytes_per_node")
    ours = f.time("save", "graph", "snapheap")
    if ours and bpn is not None:
        ours += f", {bpn:.2f} bytes/node"

    def per_node(system):
        v = f.counter("save", "graph", system, "bytes_per_node")
        return f" ({v:.2f} B/node)" if v is not None else ""

    refuses = f.pickle_refuses("graph")
    row("save a graph (an int64, a strong and a weak edge per node)", ours,
        join_parts([f"cereal takes {f.ratio('save', 'graph', 'cereal')} snapheap's time{per_node('cereal')}, "
                    f"Boost {f.ratio('save', 'graph', 'boost')}{per_node('boost')}"
                    if f.ratio("save", "graph", "cereal") and f.ratio("save", "graph", "boost") else None,
                    f"pickle, in its own process on the same graph with strong peers (weakref peers: "
                    f"`{refuses}`), {f.pickle_ratio('save', 'graph')} (medians, not paired within a pass)"
                    if f.pickle_ratio("save", "graph") else None]))
    # (pickle's figures are CPU time in its own process, not paired within a pass as the others are.)
    row("load that graph", f.time("load", "graph", "snapheap"),
        join_parts([f"cereal takes {f.ratio('load', 'graph', 'cereal')} snapheap's time, Boost "
                    f"{f.ratio('load', 'graph', 'boost')}"
                    if f.ratio("load", "graph", "cereal") and f.ratio("load", "graph", "boost") else None,
                    f"pickle {f.pickle_ratio('load', 'graph')} (not paired)" if f.pickle_ratio("load", "graph") else None]))
    # The seed's model.
    sb = f.counter("save", "seed_weak", "snapheap", "snapshot_bytes")
    ours = f.time("save", "seed_weak", "snapheap")
    if ours and sb is not None:
        ours = f"{fmt_bytes(sb)} bytes, {ours}"
    bb, cb = (f.counter("save", "seed_weak", s_, "snapshot_bytes") for s_ in ("boost", "cereal"))
    refuses = f.pickle_refuses("seed_weak")
    row("the seed's model saved without its payload", ours,
        join_parts([f"Boost and cereal write {fmt_bytes(bb)} and {fmt_bytes(cb)} bytes (they lock the `weak_ptr`) "
                    f"and take {both(f.ratio('save', 'seed_weak', 'boost'), f.ratio('save', 'seed_weak', 'cereal'))} "
                    "snapheap's time" if bb is not None and cb is not None else None,
                    f"pickle refuses it (`{refuses}`)" if refuses else None]))
    # The chain.
    chain = both(f.time("save", "chain", "snapheap"), f.time("load", "chain", "snapheap"), " / ")
    depth = None
    if report.stack:
        c = report.stack["longest_chain"]
        depth = (f"Boost and cereal recurse once per link: with {report.stack['stack_bytes'] // 2 ** 20} MiB of stack "
                 f"the longest chain Boost saves is {c.get('boost_save', 0):,} nodes and loads {c.get('boost_load', 0):,}, "
                 f"cereal {c.get('cereal_save', 0):,} and {c.get('cereal_load', 0):,} (`snapheap_stack_probe`)")
    row("save / load a 1M-node chain", chain, depth)
    # Collection.
    row("full collection, 1M live objects, random graph", f.time("collect", "live_graph", "snapheap"),
        join_parts([f"Boehm's `GC_gcollect` takes {f.ratio('collect', 'live_graph', 'boehm')} snapheap's time "
                    "(both with 10^6 weak edges)" if f.ratio("collect", "live_graph", "boehm") else None,
                    f"without the weak edges snapheap takes {f.time('collect', 'live_graph', 'snapheap_no_weak')} and "
                    f"Boehm {f.ratio('collect', 'live_graph', 'boehm_no_weak')} snapheap's time"
                    if f.ratio("collect", "live_graph", "boehm_no_weak") else None,
                    f"V8's cppgc {f.ratio('collect', 'live_graph', 'cppgc')}"
                    + (f" ({f.ratio('collect', 'live_graph', 'cppgc_no_weak')} without the weak edges)"
                       if f.ratio("collect", "live_graph", "cppgc_no_weak") else "")
                    if f.ratio("collect", "live_graph", "cppgc") else None]))
    row("full collection, 1M live objects, chain (no weak edges)", f.time("collect", "live_chain", "snapheap"),
        join_parts([f"Boehm takes {f.ratio('collect', 'live_chain', 'boehm')} snapheap's time"
                    if f.ratio("collect", "live_chain", "boehm") else None,
                    f"V8's cppgc {f.ratio('collect', 'live_chain', 'cppgc')}"
                    if f.ratio("collect", "live_chain", "cppgc") else None]))
    dead = both(f.time("collect", "dead_chain", "snapheap"), f.time("collect", "dead_graph", "snapheap"), " / ")
    row("collecting 1M dead objects, chain / random graph", dead,
        join_parts([f"the `shared_ptr` teardown takes {both(f.ratio('collect', 'dead_chain', 'shared_ptr_teardown'), f.ratio('collect', 'dead_graph', 'shared_ptr_teardown'), ' / ')} "
                    "snapheap's time" if both(f.ratio('collect', 'dead_chain', 'shared_ptr_teardown'), f.ratio('collect', 'dead_graph', 'shared_ptr_teardown')) else None,
                    f"Boehm {both(f.ratio('collect', 'dead_chain', 'boehm'), f.ratio('collect', 'dead_graph', 'boehm'), ' / ')}"
                    if both(f.ratio('collect', 'dead_chain', 'boehm'), f.ratio('collect', 'dead_graph', 'boehm')) else None,
                    f"V8's cppgc {both(f.ratio('collect', 'dead_chain', 'cppgc'), f.ratio('collect', 'dead_graph', 'cppgc'), ' / ')}"
                    if both(f.ratio('collect', 'dead_chain', 'cppgc'), f.ratio('collect', 'dead_graph', 'cppgc')) else None,
                    f"`free()` of the same chain {f.ratio('collect', 'dead_chain', 'free')}"
                    if f.ratio("collect", "dead_chain", "free") else None]))
    # Allocation and memory.
    cpi = f.counter("alloc", "small", "snapheap", "collections_per_iteration")
    ours = f.time("alloc", "small", "snapheap")
    if ours:
        ours += " with its automatic collections" + (f" ({cpi:.4g} of them)" if cpi is not None else "")
        if f.time("alloc", "small", "snapheap_no_auto_gc"):
            ours += f"; {f.time('alloc', 'small', 'snapheap_no_auto_gc')} without"
    others = [(name, f.ratio("alloc", "small", s_)) for s_, name in
              (("make_shared", "`std::make_shared`"), ("malloc", "`malloc`"), ("boehm", "Boehm"),
               ("cppgc", "V8's cppgc"))]
    others = [f"{name} {r}" for name, r in others if r]
    row("allocating 1M small objects", ours,
        join_parts([(others[0].replace(" ", " takes ", 1) + " snapheap's time"
                     + "".join(", " + o for o in others[1:])) if others else None,
                    f"snapheap without collections {f.ratio('alloc', 'small', 'snapheap_no_auto_gc')}"
                    if f.ratio("alloc", "small", "snapheap_no_auto_gc") else None]))
    mem = {s_: f.counter("memory", "small", s_, "bytes_per_object")
           for s_ in ("snapheap", "make_shared", "boehm", "malloc", "cppgc")}
    cellb = f.counter("memory", "small", "snapheap", "cell_bytes_per_object")
    table = f.counter("memory", "small", "snapheap", "table_bytes_per_object")
    if mem["snapheap"] is not None:
        ours = f"{mem['snapheap']:.1f}" + (f" ({cellb:.1f} cell + {table:.1f} table)" if cellb is not None and table is not None else "")
        row("bytes per small object", ours,
            ", ".join(f"{name} {mem[s_]:.1f}" for s_, name in (("make_shared", "`make_shared`"), ("boehm", "Boehm"),
                                                               ("malloc", "`malloc`"), ("cppgc", "V8's cppgc"))
                      if mem[s_] is not None))
    passes = report.pass_count
    md = [README_BEGIN,
          f"At {report.n:,} elements, from `bench/results/REPORT.md` (a {meta.get('mode', '?')} run: {passes} "
          f"pass{'es' if passes != 1 else ''}, commit `{str(meta.get('git_commit', '?'))[:7]}`). A ratio is the "
          "other system's time over snapheap's, within each pass, the median over the passes:", "",
          "| workload | snapheap | against |", "|---|---|---|"] + rows + [""]
    notes = []
    if report.pickle and not f.pickle_same_graph():
        notes.append("pickle's graph figures are left out: in this run its graph had the C++ graph's shape but "
                     "its own random edges")
    touched = []
    for group, workload in (("save", "payload"), ("load", "payload"), ("save", "graph"), ("load", "graph"),
                            ("save", "seed_weak"), ("save", "chain"), ("load", "chain"), ("alloc", "small"),
                            ("collect", "live_graph"), ("collect", "live_chain"), ("collect", "dead_chain"),
                            ("collect", "dead_graph")):
        for system in report.systems(group, workload):
            faults = f.counter(group, workload, system, "page_faults_per_iteration")
            if faults is not None and faults >= FIRST_TOUCH_FAULTS:
                touched.append(f"{system} {group}/{workload} (about {faults * 4096 / 2 ** 20:.0f} MiB faulted in)")
    if touched:
        notes.append("these figures include first-touch costs (page faults in the timed region): " + ", ".join(touched))
    if notes:
        md += ["Note: " + "; ".join(notes) + ".", ""]
    missed = [t for t in report.targets() if t["ok"] is False]
    if missed:
        md.append("Where snapheap misses its targets the report says so: "
                  + "; ".join(f"{cell(t['text'])}: {cell(t['shown'])}" for t in missed) + ".")
    summary = containers_summary(report)
    if summary:
        md += ["", "The report's last section measures the containers snapheap uses against their alternatives. "
               + summary]
    md.append(README_END)
    return md


def write_readme(report, path):
    """Replaces the block between README_BEGIN and README_END in the README at `path`."""
    with open(path) as fh:
        text = fh.read()
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise SystemExit(f"report.py: {path} has no generated benchmark block ({README_BEGIN!r} ... {README_END!r})")
    text = text[:begin] + "\n".join(readme_block(report)) + text[end + len(README_END):]
    with open(path, "w") as fh:
        fh.write(text)


def readme_block_of(path):
    """The generated block in the README at `path`, as lines (None if it has none)."""
    with open(path) as fh:
        text = fh.read()
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        return None
    return text[begin:end + len(README_END)].split("\n")


def write_report(report, out_dir):
    targets = report.targets()
    meta = report.meta
    md = ["# snapheap benchmark report", ""]
    md.append("Generated by `bench/run-report` (`bench/report.py`) from one run of `snapheap_bench` "
              "(every baseline in the same binary and the same run), `bench/pickle_bench.py` and "
              "`snapheap_stack_probe`. Do not edit by hand.")
    if meta.get("mode") == "smoke":
        md += ["", f"**This is a smoke run** (`bench/run-report --smoke`, CI's bench stage): every benchmark once, "
               f"at {report.n:,} elements, one iteration each. It checks that every benchmark and the report "
               "generator run; its figures mean nothing."]
    if meta.get("mode") == "short":
        md += ["", "**This is a short report** (one pass, no 10^7 runs, one repetition of the slowest "
               "baselines): a smoke test of the figures. The committed report in `bench/results/` comes "
               "from a full run."]
    md += ["", "## Machine and run", "", machine_section(report), ""]
    md.append("How to read the numbers. The suite ran in "
              + (f"**{report.pass_count} passes**; each time is the **median over the passes**, and each "
                 "ratio is taken **within each pass** (where the systems of a workload run one right "
                 "after the other) and given as the median of the per-pass ratios, with the lowest and "
                 "highest in parentheses: how much of the core a run gets can change from minute to "
                 "minute on a shared machine, and the systems of a workload are measured close together. cv is the coefficient "
                 "of variation of the time over the passes. "
                 if report.pass_count > 1 else
                 "one pass; each time is the **median over the repetitions**, and cv is their "
                 "coefficient of variation. ")
              + "In-memory work is timed by the thread's **CPU time** of the timed region (Google "
              "Benchmark's cpu_time, with PauseTiming around the untimed setup): wall time includes the "
              "time other processes hold the core (the wall column shows it). The file benchmarks wait "
              "for the disk and are compared by wall time. All figures come from this one run of "
              "`bench/run-report` (the suite, pickle_bench.py and the stack probe). Inputs "
              "are built outside the timed region from fixed seeds. **Warm against warm**: every system "
              "reuses its heap, arena or buffer; where the timed operation allocates or writes (allocation, "
              "save, load) an untimed round of it runs first, and the dead shapes are rebuilt untimed before "
              "every timed collection; glibc malloc "
              + ("is set to keep freed memory (as snapheap keeps a pool of warm pages)"
                 if report.context.get("malloc_keeps_freed_memory") == "yes" else
                 "keeps its default trimming (SNAPHEAP_BENCH_MALLOC_DEFAULTS=1)")
              + ". Whether that left first-touch costs in a figure is measured, not assumed: "
              "*faults/iter* counts the page faults inside the timed region, and each table names the "
              "figures with more than a few.")
    met = sum(1 for t in targets if t["ok"] is True)
    missed = sum(1 for t in targets if t["ok"] is False)
    md += ["", "## Targets", "", f"{met} met, {missed} missed"
           + (f", {len(targets) - met - missed} not measured" if len(targets) - met - missed else "") + ".", "",
           "| target | measured | |", "|---|---|---|"]
    for t in targets:
        verdict = "**met**" if t["ok"] else ("**missed**" if t["ok"] is False else "not measured")
        md.append(f"| {cell(t['text'])} | {cell(t['shown'])} | {verdict} |")
    md += ["", "## Charts", "", "![Baseline time over snapheap time per workload](ratios.svg)", "",
           "![Time per element against element count](scaling.svg)", ""]
    md += [f"## Results at {report.n:,} elements", ""]
    for group, workload, title, note in WORKLOADS:
        if not report.systems(group, workload):
            continue
        table, first_touch = workload_table(report, group, workload)
        md += [f"### {group}/{workload}: {title}", ""]
        if (group, workload) in CPPGC_NOTES and any(s_.startswith(CPPGC) for s_ in report.systems(group, workload)):
            note = f"{note} {CPPGC_NOTES[(group, workload)]}".strip()
        if note:
            md += [note, ""]
        if first_touch:
            md += [f"First-touch costs are in the timed figure of: {'; '.join(first_touch)}.", ""]
        else:
            md += ["No timed figure here includes first-touch costs (at most a few page faults in the "
                   "timed region).", ""]
        md += [table, ""]
    md += ["### memory/small: bytes per live small object (1M objects)", "",
           "Cold by design (a fresh heap): the counters are the result. bytes per object: everything the "
           "objects added (snapheap: committed pages + object-table growth; make_shared and malloc: malloc "
           "growth by mallinfo2; Boehm: GC_get_memory_use growth). cell: snapheap's cells alone (16-byte "
           "header + 24 bytes of fields). table: snapheap's per-slot arrays (object pointer, generation, "
           "root count, mark and live bits, free-slot list), grown by doubling. heap: Boehm's heap size "
           "growth. rss: resident-set growth (0 when memory freed by earlier runs was reused). peak rss: "
           "the process's peak so far (these runs come first)."
           + (" cppgc: page growth (heap: TotalAllocatedSpace) + malloc growth (its Persistent handles' nodes "
              "and bookkeeping); cell: the objects with their 8-byte headers."
              if report.get("memory", "small", CPPGC) else ""), "", memory_table(report), ""]
    weak_maps = weak_maps_table(report)
    if weak_maps:
        md += ["## Weak maps and death callbacks", "",
               "`bench/bench_weak_maps.cpp`: snapheap::WeakKeyMap (keyed by identity, ephemeron entries) against "
               "`std::unordered_map<const void*, PlainSmall*>`, snapheap::WeakValueMap as a cache against "
               "`std::unordered_map<int64_t, std::weak_ptr<PlainSmall>>` (expired entries erased by a pass of "
               "`std::erase_if`), and Heap::on_death; each collection also without the map (or the "
               "registrations), so that their own cost is the difference. Warm; keys in one fixed shuffled "
               "order; ratios are the other system's time over snapheap's, within each pass. "
               + weak_maps_summary(report), "", weak_maps, ""]
    containers = containers_table(report)
    if containers:
        md += ["## Container choices", "",
               "`bench/bench_containers.cpp`: each container snapheap uses, against the alternatives, on the "
               "operation snapheap performs with it (warm; ratios are the alternative's time over the "
               "choice's, within each pass). " + containers_summary(report), "", containers, ""]
    md += ["## Scaling (time per element; 10^3 to 10^7)", "", scaling_prose(report), "", scaling_table(report), ""]
    md += ["## 10^8 objects", ""] + huge_section(report)
    if report.stack:
        sb = report.stack["stack_bytes"]
        chains = report.stack["longest_chain"]
        md += ["## Stack depth: the longest chain each serializer handles", "",
               (f"`snapheap_stack_probe`, run in this run: each attempt in a child process, on a thread with "
               f"{sb // 2 ** 20} MiB of stack{' (the Linux default)' if sb == 8 << 20 else ''}; binary search to "
               "~1% for the longest chain that completes, up to "
               f"{report.stack.get('search_limit', 0):,} nodes (a crash is a stack overflow). "
               + chain_sizes_text(report)).strip(), "",
               "| serializer | save | load |", "|---|---:|---:|"]
        for lib in ("boost", "cereal"):
            md.append(f"| {lib} | {chains.get(lib + '_save', 0):,} nodes | {chains.get(lib + '_load', 0):,} nodes |")
        md.append("")
    if report.pickle:
        w = report.pickle["workloads"]
        md += ["## Python pickle", "",
               f"`bench/pickle_bench.py`: Python {cell(report.pickle['python'])}, protocol {report.pickle['protocol']}, "
               f"{report.pickle['elements']:,} elements, {report.pickle['repetitions']} repetitions "
               f"({cell(report.pickle['timing'])}). The rows marked pickle in the tables above come from it.", ""]
        for key, what in (("graph_weak", "The graph with weakref.ref peers"),
                          ("seed_weak", "The seed's model (a layer holding weakref.ref to a list subclass)"),
                          ("seed_weak_plain_list", "The seed's code as written (weakref.ref to a plain list)"),
                          ("chain_default_limit", "The 1M chain at the default recursion limit")):
            if key in w:
                e = w[key].get("error")
                md.append(f"- {what}: " + (code(e) if e else "no error"))
        ch = w.get("chain", {})
        if ch.get("skipped"):
            md.append("- The 1M chain with the recursion limit raised: not run (--short)")
        elif ch.get("error"):
            md.append(f"- The 1M chain with the recursion limit at {ch.get('recursion_limit'):,} and a "
                      f"{ch.get('thread_stack_bytes', 0) // 2 ** 30} GiB thread stack: {code(ch['error'])}")
        elif ch:
            md.append(f"- The 1M chain with the recursion limit at {ch.get('recursion_limit'):,} and a "
                      f"{ch.get('thread_stack_bytes', 0) // 2 ** 30} GiB thread stack: pickled "
                      f"({fmt_bytes(ch.get('bytes'))} bytes, dumps {fmt_time(ch.get('dumps_cpu_s'))} CPU)")
        md.append("")
    md += ["## Reproduce", "",
           "```sh",
           "cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSNAPHEAP_BUILD_TESTS=OFF "
           "-DSNAPHEAP_WARNINGS_AS_ERRORS=ON",
           "cmake --build build-bench -j2 --target snapheap_bench snapheap_stack_probe",
           "bench/run-report            # full: 5 passes + the scaling run + the 10^8 run + pickle + stack probe",
           "bench/run-report --short    # one pass of 3 repetitions, no 10^7 (1 repetition for the slowest",
           "                            # baselines and pickle): the README's main job",
           "build-bench/bench/snapheap_bench --benchmark_filter='save/graph'   # one group by hand",
           "```", ""]
    with open(os.path.join(out_dir, "REPORT.md"), "w") as f:
        f.write("\n".join(md))


RAW_NAMES = ("pickle.json", "stack.json", "meta.json", "scaling.json", "huge.json")


def raw_inputs(raw_dir):
    """The inputs run-report keeps in a raw directory: pass-*.json, scaling.json, huge.json,
    pickle.json, stack.json, meta.json. None if it holds no pass."""
    if not os.path.isdir(raw_dir):
        return None
    passes = sorted((name for name in os.listdir(raw_dir) if name.startswith("pass-") and name.endswith(".json")),
                    key=lambda name: int(name[5:-5]) if name[5:-5].isdigit() else 0)
    if not passes:
        return None
    found = {name: os.path.join(raw_dir, name) for name in RAW_NAMES if os.path.exists(os.path.join(raw_dir, name))}
    return {"bench": [os.path.join(raw_dir, name) for name in passes], "scaling": found.get("scaling.json"),
            "huge": found.get("huge.json"),
            "pickle": found.get("pickle.json"), "stack": found.get("stack.json"), "meta": found.get("meta.json")}


def build_report(bench, scaling=None, pickle=None, stack=None, meta=None, huge=None):
    passes = [load_bench(path) for path in bench]
    context = passes[0][0]
    scaling_m = load_bench(scaling)[1] if scaling else None
    huge_m = load_bench(huge)[1] if huge else None
    return Report(context, [m for _, m in passes], scaling_m, read_json(pickle), read_json(stack), read_json(meta),
                  huge_m)


def write_all(report, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "ratios.svg"), "w") as f:
        f.write(ratio_chart(report))
    with open(os.path.join(out_dir, "scaling.svg"), "w") as f:
        f.write(scaling_chart(report))
    write_report(report, out_dir)


def check(report, out_dir, readme):
    """Regenerates the report from its raw inputs into a temporary directory and compares it with
    the one in `out_dir` (and the README's block with the generated one). Returns the differences."""
    import difflib
    import tempfile
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        write_all(report, tmp)
        for name in ("REPORT.md", "ratios.svg", "scaling.svg"):
            committed = os.path.join(out_dir, name)
            if not os.path.exists(committed):
                problems.append(f"{committed} is missing")
                continue
            with open(committed) as a, open(os.path.join(tmp, name)) as b:
                old, new = a.read().splitlines(), b.read().splitlines()
            if old != new:
                diff = "\n".join(list(difflib.unified_diff(old, new, committed, "regenerated", lineterm=""))[:40])
                problems.append(f"{committed} differs from what its raw inputs give:\n{diff}")
    if readme:
        block = readme_block_of(readme)
        if block is None:
            problems.append(f"{readme} has no generated benchmark block")
        elif block != readme_block(report):
            diff = "\n".join(difflib.unified_diff(block, readme_block(report), readme, "regenerated", lineterm=""))
            problems.append(f"{readme}'s benchmark figures differ from the report's raw inputs:\n{diff}")
    return problems


NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def figures_missing(readme, report_md):
    """The numbers in the README's generated block that REPORT.md does not print (each must appear
    there as a number of its own, not as part of a longer one)."""
    block = readme_block_of(readme)
    if block is None:
        return [f"{readme} has no generated benchmark block"]
    with open(report_md) as fh:
        text = fh.read()
    missing = []
    for line in block[1:-1]:
        for number in NUMBER.findall(re.sub(r"`[^`]*`", "", line)):  # not inside code spans (a commit)
            number = number.rstrip(",")
            if not re.search(r"(?<![\d.,])" + re.escape(number) + r"(?![\d,]|\.\d)", text):
                missing.append(f"{number} (in: {line[:100]})")
    return missing


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", action="append", help="one pass (repeatable)")
    ap.add_argument("--scaling", help="snapheap_bench --scaling output")
    ap.add_argument("--huge", help="snapheap_bench --huge output (10^6 and 10^8)")
    ap.add_argument("--pickle")
    ap.add_argument("--stack")
    ap.add_argument("--meta")
    ap.add_argument("--from-raw", metavar="DIR",
                    help="read every input from DIR (pass-*.json, scaling.json, huge.json, pickle.json, stack.json, "
                         "meta.json)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--readme", help="also rewrite this README's generated benchmark block")
    ap.add_argument("--check", action="store_true",
                    help="write nothing: regenerate from the inputs and compare with --out (and --readme); "
                         "exit 1 if they differ, 77 if --from-raw holds no inputs")
    ap.add_argument("--check-figures", action="store_true",
                    help="write nothing, read no inputs: every number in --readme's generated block must "
                         "appear in --out's REPORT.md; exit 1 if one does not")
    args = ap.parse_args()
    if args.check_figures:
        if not args.readme:
            ap.error("--check-figures needs --readme")
        missing = figures_missing(args.readme, os.path.join(args.out, "REPORT.md"))
        for m in missing:
            print(f"report.py: not in {os.path.join(args.out, 'REPORT.md')}: {m}")
        if missing:
            raise SystemExit(1)
        print(f"report.py: every figure in {args.readme}'s benchmark block is in the report")
        return
    if args.from_raw:
        inputs = raw_inputs(args.from_raw)
        if inputs is None:
            print(f"report.py: no raw benchmark results in {args.from_raw}")
            raise SystemExit(77 if args.check else 2)
    elif args.bench:
        inputs = {"bench": args.bench, "scaling": args.scaling, "pickle": args.pickle, "stack": args.stack,
                  "meta": args.meta, "huge": args.huge}
    else:
        ap.error("give --bench (and the other inputs) or --from-raw")
    report = build_report(**inputs)
    if args.check:
        problems = check(report, args.out, args.readme)
        for p in problems:
            print(p)
        if problems:
            raise SystemExit(1)
        print(f"report.py: {args.out} and {args.readme or 'no README'} match their raw inputs")
        return
    write_all(report, args.out)
    if args.readme:
        write_readme(report, args.readme)
    for t in report.targets():
        verdict = "met" if t["ok"] else ("MISSED" if t["ok"] is False else "n/a")
        print(f"  [{verdict:>6}] {t['text']}: {t['shown']}")


if __name__ == "__main__":
    main()
