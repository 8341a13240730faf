"""A benchmark row (issue 9): shmimg.Reader.pull of a 3840x2160 RGBA frame
into an existing array, against numpy.copyto of the same 33 MB between two
arrays, in one process. Target: pull within 1.3x of copyto (the median of
REPEATS; on a loaded machine, the best of ROUNDS such rows). Prints one row in the manner of shmimg-bench; with --json, one
JSON object too. Exit status 0 (met) or 1 (missed).

    PYTHONPATH=build/python python3 tests/python/bench_pull.py [--json]
"""
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

import shmimg

W, H, REPEATS, ROUNDS, TARGET = 3840, 2160, 31, 3, 1.3


def median_ms(fn):
    fn()  # warm: pages touched, caches as they will be
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t) / 1e6)
    return statistics.median(times), min(times), max(times)


def main():
    """Runs the row in a private SHMIMG_DIR (unless one is given), removed
    after: nothing is left in /dev/shm."""
    if "SHMIMG_DIR" in os.environ:
        return run()
    d = tempfile.mkdtemp(prefix="shmimg-bench-py.", dir="/dev/shm")
    os.environ["SHMIMG_DIR"] = d
    try:
        return run()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run():
    src = np.random.default_rng(1).integers(0, 256, (H, W, 4), np.uint8)
    dst = np.empty_like(src)
    shmimg.publish("bench", src)
    with shmimg.Reader("bench") as r:
        for _ in range(ROUNDS):
            pull = median_ms(lambda: r.pull(dst))
            assert np.array_equal(dst, src)
            copy = median_ms(lambda: np.copyto(dst, src))
            ratio = pull[0] / copy[0]
            met = ratio <= TARGET
            if met:
                break
    shmimg.remove("bench")
    print("%-44s %-10s %8.2f ms [%.2f..%.2f]   numpy.copyto: %8.2f ms "
          "[%.2f..%.2f]   %.2fx (target <= %.1fx: %s)" % (
              "python pull into an array (Reader.pull(out))", "3840x2160",
              *pull, *copy, ratio, TARGET, "met" if met else "MISSED"))
    if "--json" in sys.argv:
        print(json.dumps({"row": "python pull", "size": "3840x2160",
                          "pull_ms": pull[0], "copyto_ms": copy[0],
                          "ratio": ratio, "target": TARGET, "met": met}))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
