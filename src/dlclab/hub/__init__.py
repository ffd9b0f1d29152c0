"""The lab on one machine: JupyterHub with isolated system users, dask-gateway and
hub-managed services (see docs/hub.md).

Modules, one job each:

``settings``       :class:`LabSettings`, the one configuration object of the hub side
``config``         turns a :class:`LabSettings` into JupyterHub configuration
``auth``           the authenticator (NativeAuthenticator + system users)
``unix``           system users, Unix groups and the data-access policy on disk
``hooks``          spawner hooks (group sync before spawn, dask clusters stopped after)
``services``       ``hub/services.d/*.yaml`` loader: adding a service is configuration
``gateway``        dask-gateway-server configuration
``busy_activity``  jupyter_server extension: busy kernels count as activity
``culler``         the idle culler, stoppable by SIGINT
``runner``         starts/stops the hub process, bootstraps accounts (``dlclab lab``)
"""
