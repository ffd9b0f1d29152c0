"""The idle culler as a hub service that stops on SIGINT.

``jupyterhub-idle-culler`` ignores SIGINT, so a hub shutting down waits for its kill
timeout (~30 s). This wrapper makes SIGINT/SIGTERM end it at once (it holds no state).
Usage (the hub runs it): ``python -m dlclab.hub.culler --timeout=3600 --cull-every=300``.
"""
from __future__ import annotations

import os
import signal
import sys


def _exit_now(signum, frame):  # noqa: ARG001
    os._exit(0)


def main() -> None:
    signal.signal(signal.SIGINT, _exit_now)
    signal.signal(signal.SIGTERM, _exit_now)
    from jupyterhub_idle_culler import main as culler_main

    sys.argv[0] = "jupyterhub-idle-culler"
    culler_main()


if __name__ == "__main__":
    main()
