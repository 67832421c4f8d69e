#!/usr/bin/env python3
"""Python's pickle (protocol 5) on the workloads snapheap_bench measures, for the report.

    bench/pickle_bench.py [--elements N] [--repetitions R] [--out FILE]

Workloads (standard library only):
  payload     a list of N ints ([i for i in range(N)]): dumps and loads.
  graph_weak  N objects with __slots__ (value, next, peer), next a random earlier node and peer a
              weakref.ref to a random node at or before it: pickle refuses the weakref
              (TypeError), which is recorded.
  graph       the same graph with peer a strong reference (what pickle can save): timed.
  seed_weak   the seed document's example 1 (a layer holding weakref.ref(large_data), in a model):
              the TypeError is recorded, exactly as pickle raises it. The seed's large_data is a
              plain list, which cannot be weakly referenced at all (TypeError at weakref.ref,
              recorded as seed_weak_plain_list); the pickling error needs a list subclass.
  seed_strong the seed's example 2 (a strong reference): timed; the payload is written.
  seed_strong_persistent_id
              the same model with the payload as a persistent ID (Pickler.persistent_id returns
              "large_data" for it; Unpickler.persistent_load returns the loading process's own
              payload): timed; only the model is written, and the load links it to that payload.
  chain       N nodes, each pointing at the previous one: pickle recurses once per link. At the
              default recursion limit it raises RecursionError (recorded); then, in a child
              process, with sys.setrecursionlimit raised and a large thread stack, it is timed,
              or the crash is recorded (--skip-raised-chain skips this part).

Times are medians over the repetitions, with the cyclic GC disabled while timing (as timeit
does); both CPU time (time.process_time) and wall time (time.perf_counter) are recorded. The
graph has the C++ suite's edges, node for node (graph_spec() repeats bench/support.cpp's
SplitMix64 and bound; tests/bench/test_report.py checks it against edges the C++ code gives).
"""

import argparse
import gc
import io
import json
import pickle
import platform
import statistics
import subprocess
import sys
import threading
import time
import weakref

PROTOCOL = 5
SEED = 0x5EED5EED20250130


class Node:
    __slots__ = ("value", "next", "peer", "__weakref__")  # __weakref__: weakref.ref(node) works

    def __init__(self, value):
        self.value = value
        self.next = None
        self.peer = None


class WeakRefLayer:
    """The seed's example 1, without Keras: the layer holds a weak reference."""

    def __init__(self, large_data):
        self.large_data_ref = weakref.ref(large_data)


class StrongRefLayer:
    """The seed's example 2: the layer holds the data itself."""

    def __init__(self, large_data):
        self.large_data = large_data


class Sequential:
    """Stands in for keras.Sequential: a model holding its layers."""

    def __init__(self, layers):
        self.layers = list(layers)


class Payload(list):
    """The payload: a list subclass, because a plain list cannot be the target of a weakref."""


MASK64 = (1 << 64) - 1


def graph_spec(n):
    """The C++ suite's graph_spec(n) (bench/support.cpp), edge for edge: SplitMix64 seeded with
    kSeed ^ n, and a bound taken by multiply-shift. Returns (strong, weak) index lists, strong[0]
    None."""
    state = (SEED ^ n) & MASK64
    strong, weak = [], []
    for i in range(n):
        for bound, out in ((i, strong), (i + 1, weak)):
            if out is strong and i == 0:
                strong.append(None)
                continue
            state = (state + 0x9E3779B97F4A7C15) & MASK64
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            z ^= z >> 31
            out.append((z * bound) >> 64)
    return strong, weak


def build_graph(n, weak):
    strong_edges, weak_edges = graph_spec(n)
    nodes = [Node(i) for i in range(n)]
    for i, node in enumerate(nodes):
        if strong_edges[i] is not None:
            node.next = nodes[strong_edges[i]]
        target = nodes[weak_edges[i]]
        node.peer = weakref.ref(target) if weak else target
    return nodes


def build_chain(n):
    head = None
    for i in range(n):
        node = Node(i)
        node.next = head
        head = node
    return head


def timed(fn, repetitions):
    """Runs fn() `repetitions` times; returns (median CPU seconds, median wall seconds, the last
    result if keep)."""
    cpu, wall = [], []
    result = None
    for _ in range(repetitions):
        result = None
        gc.collect()
        gc.disable()
        try:
            c0, w0 = time.process_time(), time.perf_counter()
            result = fn()
            c1, w1 = time.process_time(), time.perf_counter()
        finally:
            gc.enable()
        cpu.append(c1 - c0)
        wall.append(w1 - w0)
    return statistics.median(cpu), statistics.median(wall), result


def measure_with(dumps, loads, repetitions):
    """dumps() and loads(its bytes) timed: medians, the size of the pickle, and what loads gave."""
    dumps_cpu, dumps_wall, data = timed(dumps, repetitions)
    loads_cpu, loads_wall, loaded = timed(lambda: loads(data), repetitions)
    return {
        "bytes": len(data),
        "dumps_cpu_s": dumps_cpu,
        "dumps_wall_s": dumps_wall,
        "loads_cpu_s": loads_cpu,
        "loads_wall_s": loads_wall,
    }, loaded


def measure(obj, repetitions):
    """dumps and loads of obj: medians, and the size of the pickle."""
    return measure_with(lambda: pickle.dumps(obj, protocol=PROTOCOL), pickle.loads, repetitions)[0]


class ExternalPickler(pickle.Pickler):
    """Writes `external` (an object -> name dict) as persistent IDs: pickle's external roots."""

    def __init__(self, file, external):
        super().__init__(file, protocol=PROTOCOL)
        self.external = external

    def persistent_id(self, obj):
        return self.external.get(id(obj))


class ExternalUnpickler(pickle.Unpickler):
    """Binds persistent IDs to the objects of `provided` (a name -> object dict)."""

    def __init__(self, file, provided):
        super().__init__(file)
        self.provided = provided

    def persistent_load(self, pid):
        return self.provided[pid]


def measure_persistent(obj, external, provided, repetitions):
    """dumps and loads of obj with the objects of `external` ({name: object}) as persistent IDs;
    loads binds them to `provided` ({name: object}). Medians, and the size of the pickle."""
    by_id = {id(o): name for name, o in external.items()}

    def dumps():
        out = io.BytesIO()
        ExternalPickler(out, by_id).dump(obj)
        return out.getvalue()

    result, loaded = measure_with(dumps, lambda data: ExternalUnpickler(io.BytesIO(data), provided).load(), repetitions)
    result["bound"] = all(loaded_obj is provided[name] for name, loaded_obj in bound_objects(loaded, external))
    return result


def bound_objects(model, external):
    """(name, the object the loaded model's layers hold) for the seed model's external payload."""
    return [(name, layer.large_data) for layer in model.layers for name in external]


def refused(obj):
    """pickle.dumps(obj) is expected to fail: the exception as pickle raises it."""
    try:
        pickle.dumps(obj, protocol=PROTOCOL)
    except Exception as e:  # noqa: BLE001 - any refusal is what is being recorded
        return {"error": f"{type(e).__name__}: {e}", "error_type": type(e).__name__}
    return {"error": None}


def chain_default(n):
    head = build_chain(n)
    try:
        pickle.dumps(head, protocol=PROTOCOL)
    except RecursionError as e:
        return {"error": f"RecursionError: {e}", "recursion_limit": sys.getrecursionlimit()}
    return {"error": None, "recursion_limit": sys.getrecursionlimit()}


CHAIN_STACK_BYTES = 4 << 30
CHAIN_RECURSION_LIMIT = 100_000_000


def chain_child(n, repetitions):
    """In a child process: raise the limits and time the chain (prints JSON)."""
    sys.setrecursionlimit(CHAIN_RECURSION_LIMIT)
    threading.stack_size(CHAIN_STACK_BYTES)
    out = {}

    def run():
        try:
            head = build_chain(n)
            out.update(measure(head, repetitions))
        except BaseException as e:  # noqa: BLE001
            out["error"] = f"{type(e).__name__}: {e}"

    t = threading.Thread(target=run)
    t.start()
    t.join()
    print(json.dumps(out))


def chain_raised(n, repetitions):
    cmd = [sys.executable, __file__, "--chain-child", "--elements", str(n), "--repetitions", str(repetitions)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    result = {
        "recursion_limit": CHAIN_RECURSION_LIMIT,
        "thread_stack_bytes": CHAIN_STACK_BYTES,
    }
    if proc.returncode != 0:
        signal = -proc.returncode if proc.returncode < 0 else None
        result["error"] = (f"child process killed by signal {signal} (stack overflow)" if signal
                           else f"child process exited with {proc.returncode}: {proc.stderr.strip()[-300:]}")
        return result
    result.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--elements", type=int, default=1_000_000)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--out", default="-")
    parser.add_argument("--skip-raised-chain", action="store_true",
                        help="do not time the chain with the recursion limit raised (a long run)")
    parser.add_argument("--chain-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n, reps = args.elements, args.repetitions

    if args.chain_child:
        chain_child(n, reps)
        return

    workloads = {}
    payload = list(range(n))
    workloads["payload"] = measure(payload, reps)
    del payload

    graph = build_graph(n, weak=True)
    workloads["graph_weak"] = refused(graph)
    for node in graph:  # the strong variant: the same edges
        node.peer = node.peer()
    workloads["graph"] = measure(graph, reps)
    del graph

    try:
        WeakRefLayer(list(range(10)))
        workloads["seed_weak_plain_list"] = {"error": None}
    except TypeError as e:
        workloads["seed_weak_plain_list"] = {"error": f"TypeError: {e}", "error_type": "TypeError"}
    large_data = Payload(range(n))
    workloads["seed_weak"] = refused(Sequential([WeakRefLayer(large_data)]))
    workloads["seed_strong"] = measure(Sequential([StrongRefLayer(large_data)]), reps)
    existing = Payload(range(n))  # the loading process's own payload
    workloads["seed_strong_persistent_id"] = measure_persistent(
        Sequential([StrongRefLayer(large_data)]), {"large_data": large_data}, {"large_data": existing}, reps)
    del existing
    del large_data

    workloads["chain_default_limit"] = chain_default(n)
    if args.skip_raised_chain:
        workloads["chain"] = {"error": "not run (--skip-raised-chain)", "skipped": True}
    else:
        workloads["chain"] = chain_raised(n, reps)

    result = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "protocol": PROTOCOL,
        "elements": n,
        "repetitions": reps,
        "timing": "medians; cyclic GC disabled while timing; CPU = time.process_time",
        # The graph's edges: the C++ suite's graph_spec (bench/support.cpp), edge for edge.
        "graph_edges": "graph_spec",
        "workloads": workloads,
    }
    text = json.dumps(result, indent=2)
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
