"""A dask preload: a cluster's HTTP servers answer only connections of its owner.

Every scheduler and worker of a lab cluster serves its dashboard (task stream, worker
logs, the data's names and shapes; the scheduler's also proxies to the workers') over
plain HTTP on loopback. The hub leads only the owner there (through the owner's own
server), but any local process can connect to ``127.0.0.1:<port>`` itself, or through
its own server's jupyter-server-proxy. With this preload the scheduler's and workers'
HTTP servers close every connection whose peer socket does not belong to the uid the
cluster runs as (the owner: :class:`dlclab.hub.gateway_backend.LabLocalBackend` starts
it as them). On loopback the kernel says who owns the other end of a TCP connection:
its row in ``/proc/net/tcp`` (or ``tcp6``) carries the owning uid.

Loaded with ``--preload dlclab.hub.dashboard_guard`` (:mod:`dlclab.hub.gateway`). The
guard is installed when the module is imported, which dask does before it creates the
HTTP server, so no connection is ever served unchecked; ``dask_setup`` fails the start
of a scheduler or worker whose server is not guarded.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import socket

import distributed.node
from tornado.httpserver import HTTPServer

log = logging.getLogger(__name__)

_PROC_TABLES = {socket.AF_INET: "/proc/net/tcp", socket.AF_INET6: "/proc/net/tcp6"}


def _proc_address(family: int, host: str, port: int) -> str:
    """``host:port`` as ``/proc/net/tcp*`` writes it: the address in host byte order
    per 32-bit word, in hex, then the port in hex."""
    packed = ipaddress.ip_address(host).packed
    words = [packed[i:i + 4][::-1].hex().upper() for i in range(0, len(packed), 4)]
    return f"{''.join(words)}:{port:04X}"


def peer_uid(sock: socket.socket) -> int | None:
    """The uid owning the other end of a TCP connection on this host, or ``None`` when
    it is not a local socket (or has already gone)."""
    family = sock.family
    if family not in _PROC_TABLES:
        return None
    ours, theirs = sock.getsockname()[:2], sock.getpeername()[:2]
    # the peer's row: its local address is our peer, its remote address is us
    want = (_proc_address(family, *theirs), _proc_address(family, *ours))
    with open(_PROC_TABLES[family]) as table:
        next(table)
        for line in table:
            fields = line.split()
            if (fields[1], fields[2]) == want:
                return int(fields[7])
    return None


class OwnerOnlyHTTPServer(HTTPServer):
    """A tornado ``HTTPServer`` that closes connections from other uids than its own."""

    def handle_stream(self, stream, address):
        try:
            uid = peer_uid(stream.socket)
        except OSError:
            uid = None
        if uid != os.getuid():
            log.warning("dlclab: refused a dashboard connection from %s (uid %s): this "
                        "cluster's dashboards are its owner's only", address, uid)
            stream.close()
            return None
        return super().handle_stream(stream, address)


# distributed's ServerNode.start_http_server makes its server from this name
distributed.node.HTTPServer = OwnerOnlyHTTPServer


def dask_setup(server) -> None:
    """Fail closed: a scheduler or worker whose HTTP server escaped the guard stops."""
    http_server = getattr(server, "http_server", None)
    if http_server is not None and not isinstance(http_server, OwnerOnlyHTTPServer):
        raise RuntimeError("dlclab.hub.dashboard_guard: the dashboard server is not "
                           "guarded (distributed changed how it makes it); not starting")
