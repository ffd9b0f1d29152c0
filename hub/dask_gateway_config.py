# dask-gateway-server configuration of the lab. The settings come from the hub (one JSON
# environment variable, see dlclab.hub.settings); the logic lives in dlclab.hub.gateway.
from dlclab.hub.gateway import configure_gateway
from dlclab.hub.settings import LabSettings

configure_gateway(c, LabSettings.from_env())  # noqa: F821 (c is injected by traitlets)
