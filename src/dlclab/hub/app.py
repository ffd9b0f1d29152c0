"""The lab's JupyterHub application: JupyterHub, waiting longer for managed services.

JupyterHub gives each managed service ten one-second tries to answer at start and exits
if one does not. On a loaded two-core machine a formgrader (a whole Jupyter server) can
take longer than that, and the hub then dies at start with its services left behind.
:class:`LabHubApp` keeps waiting, up to :attr:`service_start_timeout` seconds, as long as
the service's process is alive; a service that exits still fails the start at once.
And when the start fails anyway, it stops what it had started (services, user servers,
the proxy) before exiting, where JupyterHub would leave them running without a parent.

Run as ``python -m dlclab.hub.app -f hub/jupyterhub_config.py`` (what
:class:`dlclab.hub.runner.LabRunner` does).
"""
from __future__ import annotations

import time

from jupyterhub.app import JupyterHub
from jupyterhub.objects import Server
from jupyterhub.utils import AnyTimeoutError
from traitlets import Float


class LabHubApp(JupyterHub):
    """JupyterHub with a configurable wait for managed services at start."""

    service_start_timeout = Float(
        120.0,
        config=True,
        help="Seconds to wait, at hub start, for a managed service that is still running "
             "to answer on its URL (JupyterHub itself gives up after about ten).",
    )

    async def start(self) -> None:
        try:
            await super().start()
        except SystemExit:  # JupyterHub.exit(1) after a service failed to start
            self.log.critical("dlclab: the hub failed to start; stopping what it started")
            await self.cleanup()
            raise

    async def start_service(self, service_name, service, ssl_context=None) -> bool:  # noqa: ANN001
        if await super().start_service(service_name, service, ssl_context):
            return True
        if not (service.managed and service.url):
            return False
        deadline = time.monotonic() + self.service_start_timeout
        self.log.warning("dlclab: service %s is still starting; waiting up to %g s",
                         service_name, self.service_start_timeout)
        while time.monotonic() < deadline:
            status = await service.spawner.poll()
            if status is not None:
                self.log.critical("Service %s exited with status %s", service_name, status)
                return False
            try:
                await Server.from_orm(service.orm.server).wait_up(
                    http=True, timeout=1, ssl_context=ssl_context)
            except AnyTimeoutError:
                continue
            self.log.info("dlclab: service %s is up", service_name)
            return True
        self.log.critical("Service %s did not answer within %g s", service_name,
                          self.service_start_timeout)
        return False


main = LabHubApp.launch_instance

if __name__ == "__main__":
    main()
