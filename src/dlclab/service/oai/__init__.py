"""OAI-PMH 2.0 over the catalogue's releases, open to anonymous harvesters for the public
ones: Dublin Core (``oai_dc``) and DataCite kernel 4 (``datacite``) records with
persistent identifiers (UUID, DOI where the release has one), licence and provenance,
sets by experiment and by access, resumption tokens for long lists.

:mod:`.protocol` answers the verbs, :mod:`.records` writes the metadata, :mod:`.sets`
and :mod:`.tokens` do sets and paging.
"""
from dlclab.service.oai.protocol import PREFIX, OaiError, OaiRepository
from dlclab.service.oai.records import FORMATS, provenance_of

__all__ = ["FORMATS", "PREFIX", "OaiError", "OaiRepository", "provenance_of"]
