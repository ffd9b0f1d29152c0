"""The lab's storage instances, declared once in ``instances.yaml`` (next to this module)."""
from __future__ import annotations

from pathlib import Path

import yaml

from dlclab.errors import DlclabError
from dlclab.storage.xrootd import Instance

DEFAULT_CONFIG = Path(__file__).with_name("instances.yaml")


def load_instances(data_root: Path, path: Path = DEFAULT_CONFIG) -> list[Instance]:
    """The instances of ``path`` with ``{data_root}`` filled in; ports checked distinct."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DlclabError(f"{path}: cannot read the storage instances ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("instances"), list):
        raise DlclabError(f"{path}: expected a mapping with a list 'instances'")
    out: list[Instance] = []
    for item in raw["instances"]:
        item = dict(item)
        item["root"] = str(item.get("root", "{data_root}")).format(data_root=data_root)
        out.append(Instance.model_validate(item))
    ports = [p for i in out for p in (i.port, i.public_port) if p]
    if len(ports) != len(set(ports)):
        raise DlclabError(f"{path}: two servers share a port ({sorted(ports)})")
    names = [i.name for i in out]
    if len(names) != len(set(names)):
        raise DlclabError(f"{path}: instance names repeat ({names})")
    return out
