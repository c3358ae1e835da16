#!/usr/bin/python3
"""Checks docs/kubernetes/skyscript-indexed-job.yaml (tests/test_shards.cpp): one Indexed Job
whose workers run the bare command with --shard auto into a folder of their own
($JOB_COMPLETION_INDEX) with SKYSCRIPT_SHARD_COUNT = completions, on a shared volume that
a merge Job reads after waiting for every shard. Prints "ok N" (N = completions)."""
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
jobs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Job"}
claims = [d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"]
indexed = [j for j in jobs.values() if j["spec"].get("completionMode") == "Indexed"]
assert len(indexed) == 1, "one Indexed Job"
spec = indexed[0]["spec"]
pod = spec["template"]["spec"]
worker = pod["containers"][0]
command = " ".join(worker["command"])
assert "--shard auto" in command, command
assert "$JOB_COMPLETION_INDEX" in command, "each worker's own OUT folder"
assert "--catalog" in command, command
env = {e["name"]: e.get("value") for e in worker.get("env", [])}
assert int(env["SKYSCRIPT_SHARD_COUNT"]) == spec["completions"], "the shard count is the Job's completions"
assert spec["parallelism"] <= spec["completions"]
def claim_of(p):
    return {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in p["volumes"]}
mounted = lambda p, c: {m["name"] for m in c["volumeMounts"]}
assert claim_of(pod)["data"] in claims and "data" in mounted(pod, worker)
merges = [j for j in jobs.values() if " merge " in " ".join(j["spec"]["template"]["spec"]["containers"][0]["command"])]
assert len(merges) == 1, "a merge Job"
mpod = merges[0]["spec"]["template"]["spec"]
assert claim_of(mpod)["data"] == claim_of(pod)["data"], "merge reads the workers' volume"
wait = " ".join(mpod["initContainers"][0]["command"])
assert str(spec["completions"]) in wait, "merge waits for every shard"
print("ok", spec["completions"])
