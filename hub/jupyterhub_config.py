# JupyterHub configuration of the lab. `dlclab lab` (and tests/hub_harness.py) start
# `jupyterhub -f hub/jupyterhub_config.py` with the lab's settings in one JSON
# environment variable; the logic lives in dlclab.hub.config (see docs/hub.md).
from dlclab.hub.config import configure
from dlclab.hub.settings import LabSettings

configure(c, LabSettings.from_env())  # noqa: F821 (c is injected by traitlets)
