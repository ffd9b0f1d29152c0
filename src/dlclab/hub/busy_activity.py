"""jupyter_server extension: a busy kernel counts as activity of its server.

The idle culler stops servers whose *activity* (reported by the single-user server to
the hub every ``JUPYTERHUB_ACTIVITY_INTERVAL`` seconds) is older than its timeout. A
server's activity is ``ServerApp.last_activity()``: API requests, kernel messages and any
``*_last_activity`` entry of the web app's settings. A kernel computing for hours without
output sends no message, so its server would look idle and be culled mid-computation.

This extension refreshes ``settings["dlclab_busy_kernels_last_activity"]`` every
``interval_s`` seconds while any kernel's execution state is ``busy``; the activity
report then carries a fresh time and the culler leaves the server alone. (Kernels
themselves are never culled while busy: jupyter_server's ``cull_busy`` is False.)

Enabled for users' servers by the spawner:
``--ServerApp.jpserver_extensions={"dlclab.hub.busy_activity": true}``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from tornado.ioloop import PeriodicCallback
from traitlets import Float
from traitlets.config import LoggingConfigurable

SETTINGS_KEY = "dlclab_busy_kernels_last_activity"


class BusyKernelActivity(LoggingConfigurable):
    interval_s = Float(60.0, config=True, help="How often busy kernels refresh activity (s).")

    def __init__(self, serverapp, **kwargs):
        super().__init__(parent=serverapp, **kwargs)
        self.serverapp = serverapp
        self._callback = PeriodicCallback(self.refresh, self.interval_s * 1000)

    def busy_kernels(self) -> list[str]:
        manager = self.serverapp.kernel_manager
        return [kid for kid in manager.list_kernel_ids()
                if getattr(manager.get_kernel(kid), "execution_state", None) == "busy"]

    def refresh(self) -> None:
        if self.busy_kernels():
            self.serverapp.web_app.settings[SETTINGS_KEY] = datetime.now(timezone.utc)

    def start(self) -> None:
        self._callback.start()


def _jupyter_server_extension_points():
    return [{"module": "dlclab.hub.busy_activity"}]


def _load_jupyter_server_extension(serverapp) -> None:
    watcher = BusyKernelActivity(serverapp)
    watcher.start()
    serverapp.log.info("dlclab: busy kernels count as activity (every %gs)", watcher.interval_s)
