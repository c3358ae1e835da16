#!/usr/bin/python3
"""Round trip of the pickle writer through python3's own pickle (ctest fuzz_pickle_python).

Runs the fuzz_pickle replay binary over its corpus with SKYSCRIPT_PICKLE_DUMP set, which
writes INPUT.pickle and INPUT.expected.json per corpus file, then loads every pickle with pickle.load
and compares it with the expected value: same types (tuple/list, int/bool/float/str),
same dict order, float bits exact, strings equal to their raw bytes decoded as UTF-8 with
errors="replace" (the writer promises that replacement).

usage: check_pickles.py SCRATCH_DIR FUZZ_PICKLE_BINARY ARGS...
(ARGS: the corpus folder, after -runs=0 for a libFuzzer binary)
"""
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys


def expected(node):
    t, v = node["t"], node.get("v")
    if t == "none":
        return None
    if t == "bool":
        return bool(v)
    if t == "int":
        return int(v)
    if t == "float":
        return struct.unpack(">d", bytes.fromhex(v))[0]
    if t == "str":
        return bytes.fromhex(v).decode("utf-8", "replace")
    if t == "list":
        return [expected(i) for i in v]
    if t == "tuple":
        return tuple(expected(i) for i in v)
    if t == "dict":
        return {expected(k): expected(i) for k, i in v}
    raise ValueError("unknown type " + t)


def same(got, want, where):
    if type(got) is not type(want):
        return f"{where}: {type(got).__name__} {got!r}, expected {type(want).__name__} {want!r}"
    if isinstance(want, float):
        if struct.pack(">d", got) != struct.pack(">d", want):
            return f"{where}: {got!r}, expected {want!r}"
        return None
    if isinstance(want, (list, tuple)):
        if len(got) != len(want):
            return f"{where}: {len(got)} items, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            if err := same(g, w, f"{where}[{i}]"):
                return err
        return None
    if isinstance(want, dict):
        if list(got.keys()) != list(want.keys()):
            return f"{where}: keys {list(got.keys())!r}, expected {list(want.keys())!r}"
        for k in want:
            if err := same(got[k], want[k], f"{where}[{k!r}]"):
                return err
        return None
    return None if got == want else f"{where}: {got!r}, expected {want!r}"


def main():
    scratch, command = sys.argv[1], sys.argv[2:]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    env = dict(os.environ, SKYSCRIPT_PICKLE_DUMP=scratch)
    subprocess.run(command, env=env, check=True)
    stems = sorted(f[: -len(".pickle")] for f in os.listdir(scratch) if f.endswith(".pickle"))
    if not stems:
        sys.exit("check_pickles: the replay wrote no pickle into " + scratch)
    failures = 0
    for stem in stems:
        path = os.path.join(scratch, stem + ".pickle")
        try:
            with open(path, "rb") as f:
                got = pickle.load(f)
        except Exception as e:  # any failure to load is the finding
            print(f"{path}: python3 cannot load it: {type(e).__name__}: {e}")
            failures += 1
            continue
        with open(os.path.join(scratch, stem + ".expected.json")) as f:
            want = expected(json.load(f))
        if err := same(got, want, path):
            print(err)
            failures += 1
    print(f"check_pickles: {len(stems)} pickles checked with python3 {sys.version.split()[0]}, {failures} wrong")
    if failures:
        sys.exit(1)
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
