"""The OAI-PMH 2.0, Dublin Core (oai_dc, simple DC) and DataCite kernel-4 XML schemas,
loaded from the copies in ``xsd/`` (see ``xsd/SOURCES.md``): nothing is fetched. The
schemas import each other by their published URLs; a resolver maps each of them to its
local copy and refuses any other URL, so a schema that would need the network fails the
test instead of reaching out."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

XSD = Path(__file__).resolve().parent / "xsd"
#: published schema locations -> local copies
LOCAL = {
    "http://www.w3.org/2001/xml.xsd": XSD / "datacite/include/xml.xsd",
    "http://www.w3.org/2001/03/xml.xsd": XSD / "datacite/include/xml.xsd",
    "http://dublincore.org/schemas/xmls/simpledc20021212.xsd": XSD / "dc/simpledc20021212.xsd",
    "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd": XSD / "OAI-PMH.xsd",
    "http://www.openarchives.org/OAI/2.0/oai_dc.xsd": XSD / "oai_dc.xsd",
    "http://schema.datacite.org/meta/kernel-4/metadata.xsd": XSD / "datacite/metadata.xsd",
}
#: one schema over the three namespaces, so that the OAI-PMH envelope's strict
#: ``<any namespace="##other">`` checks each record's metadata against its own schema
DRIVER = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    targetNamespace="urn:dlclab:test:oai-driver">
  <xs:import namespace="http://www.openarchives.org/OAI/2.0/" schemaLocation="OAI-PMH.xsd"/>
  <xs:import namespace="http://www.openarchives.org/OAI/2.0/oai_dc/" schemaLocation="oai_dc.xsd"/>
  <xs:import namespace="http://datacite.org/schema/kernel-4" schemaLocation="datacite/metadata.xsd"/>
</xs:schema>"""


class LocalOnly(etree.Resolver):
    def resolve(self, url, pubid, context):
        if url in LOCAL:
            return self.resolve_filename(str(LOCAL[url]), context)
        if url.startswith(("file:", "/")) or "://" not in url:
            return None  # a relative include inside xsd/: libxml2 reads it
        raise AssertionError(f"a schema wants {url}, which has no local copy in {XSD}")


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(LocalOnly())
    return parser


@cache
def oai_schema() -> etree.XMLSchema:
    """OAI-PMH responses, with each record's oai_dc or DataCite metadata checked too."""
    doc = etree.fromstring(DRIVER.encode(), _parser(), base_url=str(XSD / "driver.xsd"))
    return etree.XMLSchema(doc)


@cache
def schema(name: str) -> etree.XMLSchema:
    """One schema on its own: ``oai_dc`` or ``datacite``."""
    path = {"oai_dc": XSD / "oai_dc.xsd", "datacite": XSD / "datacite/metadata.xsd"}[name]
    return etree.XMLSchema(etree.parse(str(path), _parser()))


def validate(document: bytes | etree._Element, against: etree.XMLSchema) -> None:
    """AssertionError naming every violation, or nothing."""
    tree = etree.fromstring(document) if isinstance(document, bytes) else document
    if not against.validate(tree):
        problems = "\n".join(f"line {e.line}: {e.message}" for e in against.error_log)
        raise AssertionError(f"not valid against the schema:\n{problems}")
