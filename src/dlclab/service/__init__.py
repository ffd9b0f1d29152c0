"""The Data Aggregation Service (APPDS): one REST service in front of all storage instances,
run as a JupyterHub service. ``create_app(ServiceSettings(...))`` builds the FastAPI app."""
from dlclab.service.app import create_app
from dlclab.service.settings import ServiceSettings

__all__ = ["create_app", "ServiceSettings"]
