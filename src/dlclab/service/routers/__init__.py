"""The service's routes, one router per concern: ``files`` (catalogue queries and file
delivery), ``exports`` (KCDC-DataShop-style export requests), ``oai`` (OAI-PMH) and ``web``
(the page, the hub's OAuth, the OpenAPI document). :func:`dlclab.service.app.create_app`
mounts them under the service's prefix."""
