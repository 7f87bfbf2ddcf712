#!/usr/bin/env python3
"""The contract between the Kubernetes manifests and `leakhound run`, checked.

    python3 deploy/kubernetes/check_contract.py path/to/leakhound

1. Reads job.yaml and cronjob.yaml and checks what the binary relies on: an Indexed
   Job; LEAKHOUND_SHARDS equal to `completions`; the run id from the Job's name; the
   inventory, key and cache paths inside the volumes that hold them; the datastore
   from a Secret; a non-root pod that restarts nothing itself (the Job does).
2. Runs the real binary once per index, in parallel, with exactly the environment the
   manifest gives each pod (JOB_COMPLETION_INDEX added as the Job controller adds it;
   the ConfigMap's inventory and a fresh key written where the volumes would put
   them; an SQLite file standing in for the PostgreSQL Secret), and checks that every
   shard finished and every target of the inventory was taken by exactly one shard.
   git may use file URLs only here, so the example's https targets fail at once, as
   unreachable targets do: recorded, and the shard carries on.

CI runs it after kubernetes-validate (.ci/run). Needs PyYAML.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

import yaml

HERE = pathlib.Path(__file__).resolve().parent


def fail(message):
    print(f"contract: {message}", file=sys.stderr)
    sys.exit(1)


def documents(name):
    with open(HERE / name, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def job_spec(doc):
    if doc["kind"] == "Job":
        return doc["spec"]
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]
    fail(f"unexpected kind {doc['kind']}")


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def mount_holding(container, volumes, path):
    """The volume mounted over `path`, and the file name inside it."""
    for m in container.get("volumeMounts", []):
        prefix = m["mountPath"].rstrip("/") + "/"
        if path.startswith(prefix):
            return volumes[m["name"]], path[len(prefix):]
    fail(f"{path} is not inside any mounted volume")


def check(spec, configmaps, secrets, where):
    if spec.get("completionMode") != "Indexed":
        fail(f"{where}: completionMode must be Indexed")
    completions = spec["completions"]
    if spec.get("parallelism", completions) > completions:
        fail(f"{where}: parallelism above completions")
    if "backoffLimitPerIndex" not in spec:
        fail(f"{where}: backoffLimitPerIndex retries a dead shard on its own; set it")
    pod = spec["template"]["spec"]
    if pod.get("restartPolicy") != "Never":
        fail(f"{where}: restartPolicy must be Never (the Job re-runs a shard as a new pod)")
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        fail(f"{where}: the pod must run as non-root")
    (container,) = pod["containers"]
    if container.get("args", [None])[0] != "run":
        fail(f"{where}: the container must run `leakhound run`")
    env = env_of(container)
    if env.get("LEAKHOUND_SHARDS", {}).get("value") != str(completions):
        fail(f"{where}: LEAKHOUND_SHARDS must equal completions ({completions})")
    run = env.get("LEAKHOUND_RUN", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    if run != "metadata.labels['batch.kubernetes.io/job-name']":
        fail(f"{where}: LEAKHOUND_RUN must come from the Job's name (got {run})")
    if "secretKeyRef" not in env.get("LEAKHOUND_DATASTORE", {}).get("valueFrom", {}):
        fail(f"{where}: LEAKHOUND_DATASTORE must come from a Secret")
    volumes = {v["name"]: v for v in pod["volumes"]}
    targets_volume, targets_file = mount_holding(container, volumes, env["LEAKHOUND_TARGETS"]["value"])
    configmap = configmaps[targets_volume["configMap"]["name"]]
    if targets_file not in configmap["data"]:
        fail(f"{where}: the ConfigMap has no {targets_file}")
    key_volume, key_file = mount_holding(container, volumes, env["LEAKHOUND_KEY_FILE"]["value"])
    secret = secrets[key_volume["secret"]["secretName"]]
    if key_file not in secret.get("stringData", secret.get("data", {})):
        fail(f"{where}: the key Secret has no {key_file}")
    mode = key_volume["secret"].get("defaultMode", 0o644)
    if mode & 0o040 == 0:
        fail(f"{where}: the key file must be readable by the pod's group (fsGroup), mode {mode:o}")
    mount_holding(container, volumes, env["LEAKHOUND_CACHE"]["value"] + "/x")
    return completions, env, configmap["data"][targets_file]


def run_shards(binary, completions, env, inventory):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "estate.toml").write_text(inventory, encoding="utf-8")
        subprocess.run([binary, "trace", "key", "--out", str(tmp / "trace.key")], check=True,
                       capture_output=True)
        store = str(tmp / "estate.db")
        run_id = "leakhound-estate-contract"
        base = {k: v for k, v in os.environ.items() if not k.startswith("LEAKHOUND_")}
        pods = []
        for index in range(completions):
            pod_env = dict(base)
            for name, e in env.items():
                if "value" in e:
                    pod_env[name] = e["value"]
            # What the cluster fills in: the Job's name, the Secrets, the mounts.
            pod_env.update({
                "JOB_COMPLETION_INDEX": str(index),
                "LEAKHOUND_RUN": run_id,
                "LEAKHOUND_DATASTORE": store,
                "LEAKHOUND_TARGETS": str(tmp / "estate.toml"),
                "LEAKHOUND_KEY_FILE": str(tmp / "trace.key"),
                "LEAKHOUND_CACHE": str(tmp / f"cache-{index}"),
                "GIT_ALLOW_PROTOCOL": "file",
            })
            pods.append(subprocess.Popen([binary, "run"], env=pod_env, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True))
        for index, p in enumerate(pods):
            out, err = p.communicate(timeout=300)
            if p.returncode != 0:
                fail(f"shard {index} exited {p.returncode}: {err}")
        report = subprocess.run([binary, "report", "--datastore", store, "--run", run_id,
                                 "--format", "json"], capture_output=True, text=True, check=True)
        run = json.loads(report.stdout)["run"]
        states = {s["shard"]: s["status"] for s in run["shard_states"]}
        if states != {i: "finished" for i in range(completions)}:
            fail(f"shards did not all finish: {states}")
        names = [t["name"] for t in run["targets"]]
        if len(names) != len(set(names)) or any(t["status"] == "not run" for t in run["targets"]):
            fail(f"every target must be taken by exactly one shard: {run['targets']}")
        return run


def main():
    if len(sys.argv) != 2:
        fail("usage: check_contract.py path/to/leakhound")
    configmaps = {d["metadata"]["name"]: d for d in documents("configmap-targets.yaml")}
    secrets = {d["metadata"]["name"]: d for d in documents("secrets.yaml")}
    specs = []
    for name in ("job.yaml", "cronjob.yaml"):
        for doc in documents(name):
            specs.append((name, check(job_spec(doc), configmaps, secrets, name)))
    (_, (completions, env, inventory)) = specs[0]
    run = run_shards(sys.argv[1], completions, env, inventory)
    print(f"contract: {len(specs)} manifests hold to it; {completions} shards ran "
          f"{len(run['targets'])} targets, each once")


if __name__ == "__main__":
    main()
