"""The RO-Crate of a run (Process Run Crate profile): the notebook as the instrument, the
catalogue inputs and parameters as objects, the executed notebook and result tables as
results, the software environment (lock digest, versions) on the action."""
from __future__ import annotations

import json
from pathlib import Path

PROCESS_RUN_PROFILE = "https://w3id.org/ro/wfrun/process/0.5"


def write_crate(run_dir: Path, record: dict) -> Path:
    """Write ``ro-crate-metadata.json`` into ``run_dir`` describing the files already there."""
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    crate = ROCrate()
    crate.name = f"dlclab run of {record['notebook_name']}"
    crate.description = "Papermill execution of a dlclab analysis with its inputs, parameters and results"
    crate.root_dataset["conformsTo"] = {"@id": PROCESS_RUN_PROFILE}

    instrument = crate.add_file(None, dest_path="source.ipynb", properties={
        "@type": ["File", "SoftwareSourceCode"], "name": record["notebook_name"],
        "encodingFormat": "application/x-ipynb+json", "sha256": record["notebook_sha256"],
        "description": f"the analysis notebook as run (copied from {record['notebook']})"})

    objects = []
    for name, value in sorted(record["parameters"].items()):
        objects.append(crate.add(ContextEntity(crate, f"#param-{name}", properties={
            "@type": "PropertyValue", "name": name, "value": json.dumps(value)})))
    for i, inp in enumerate(record["inputs"]):
        props = {"@type": "Dataset", "name": inp.get("name"), "description": "catalogue input"}
        for key in ("catalog_entry", "release", "uuid_sha256", "n_events"):
            if inp.get(key) is not None:
                props[key] = inp[key]
        parts = []
        for f in inp.get("files", []):
            # input files live outside the run folder: web-based data entities (absolute
            # file:// URIs, listed in the root's hasPart as RO-Crate requires)
            fe = crate.add_file(Path(f["path"]).resolve().as_uri(), fetch_remote=False, validate_url=False,
                                properties={"name": Path(f["path"]).name, "sha256": f["sha256"],
                                            "contentSize": f["bytes"]})
            parts.append(fe)
        if parts:
            props["hasPart"] = [{"@id": p.id} for p in parts]
        objects.append(crate.add(ContextEntity(crate, f"#input-{i}", properties=props)))

    results = []
    for rel in record["outputs"]:
        path = run_dir / rel
        props = {"name": rel, "sha256": record["output_sha256"].get(rel)}
        if rel.endswith(".csv"):
            props["encodingFormat"] = "text/csv"
        elif rel.endswith(".json"):
            props["encodingFormat"] = "application/json"
        elif rel.endswith(".ipynb"):
            props["encodingFormat"] = "application/x-ipynb+json"
        if path.exists():
            props["contentSize"] = path.stat().st_size
        results.append(crate.add_file(None, dest_path=rel, properties=props))

    env = record["environment"]
    software = crate.add(ContextEntity(crate, "#environment", properties={
        "@type": "SoftwareApplication", "name": "dlclab lab environment",
        "softwareRequirements": json.dumps(env["packages"], sort_keys=True),
        "lockFile": env["lock"]["path"], "lockSha256": env["lock"]["sha256"], "python": env["python"]}))
    action = crate.add(ContextEntity(crate, "#run", properties={
        "@type": "CreateAction", "name": f"run {record['run_id']}",
        "startTime": record["started"], "endTime": record["finished"],
        "actionStatus": "http://schema.org/CompletedActionStatus" if record["status"] == "completed"
        else "http://schema.org/FailedActionStatus",
        "instrument": {"@id": instrument.id},
        "object": [{"@id": o.id} for o in objects],
        "result": [{"@id": r.id} for r in results],
        "agent": {"@id": "#environment"}}))
    crate.root_dataset["mentions"] = [{"@id": action.id}]
    crate.mainEntity = instrument
    del software
    # write only the metadata: the files are already in place
    crate.metadata.write(run_dir)
    return run_dir / "ro-crate-metadata.json"
