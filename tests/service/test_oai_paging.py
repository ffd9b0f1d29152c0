"""OAI-PMH paging, sets and schema validity, in process (users injected or anonymous; the
real harvest through the hub is test_oai_harvest.py)."""
from __future__ import annotations

import pytest
from lxml import etree

from dlclab.service.auth import User
from tests.service.conftest import OAI_RELEASES, make_client
from tests.service.oai_schemas import oai_schema, validate

O = "{http://www.openarchives.org/OAI/2.0/}"
PUBLIC = sorted(name for _, name, access in OAI_RELEASES if access == "public")


@pytest.fixture(scope="module")
def clients(oai_lab):
    """anonymous (the real identity, no credential sent), a taiga member, a non-member;
    pages of 2"""
    with make_client(oai_lab, None, oai_page_size=2) as anonymous, \
            make_client(oai_lab, User("alice", frozenset({"taiga"})), oai_page_size=2) as alice, \
            make_client(oai_lab, User("bob", frozenset()), oai_page_size=2) as bob:
        yield {"anonymous": anonymous, "alice": alice, "bob": bob}


def get(client, **params) -> etree._Element:
    reply = client.get("/oai", params=params)
    assert reply.status_code == 200, reply.text
    validate(reply.content, oai_schema())
    return etree.fromstring(reply.content)


def walk(client, verb: str, **params) -> tuple[list[etree._Element], list[etree._Element]]:
    """Every page of a list: (pages, their items)."""
    pages, items = [], []
    page = get(client, verb=verb, **params)
    while True:
        assert page.find(f"{O}error") is None, etree.tostring(page)
        pages.append(page)
        items += page.findall(f"{O}{verb}/{O}record") + page.findall(f"{O}{verb}/{O}header")
        token = page.find(f".//{O}resumptionToken")
        if token is None or not token.text:
            return pages, items
        page = get(client, verb=verb, resumptionToken=token.text)


def names(items: list[etree._Element]) -> list[str]:
    titles = [t.text for i in items for t in i.iter("{*}title")]
    return sorted(t.rsplit("(", 1)[1].rstrip(")") for t in titles)


@pytest.mark.parametrize("prefix", ["oai_dc", "datacite"])
def test_pages_of_two_are_valid_and_complete(clients, prefix):
    pages, records = walk(clients["anonymous"], "ListRecords", metadataPrefix=prefix)
    assert len(pages) == 3 and names(records) == PUBLIC
    pages, records = walk(clients["alice"], "ListRecords", metadataPrefix=prefix)
    assert len(pages) == 4 and names(records) == sorted(PUBLIC + ["TSECRET-1", "TSECRET-2"])


def test_identifiers_and_sets(clients):
    _, headers = walk(clients["bob"], "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(headers) == len(PUBLIC)
    specs = [[s.text for s in h.iterfind(f"{O}setSpec")] for h in headers]
    assert all(len(s) == 2 and s[1] == "access:public" for s in specs)
    listed = get(clients["anonymous"], verb="ListSets")
    assert "access:collaboration" not in [s.text for s in listed.iter(f"{O}setSpec")]
    _, records = walk(clients["alice"], "ListRecords", metadataPrefix="oai_dc",
                      set="access:collaboration")
    assert names(records) == ["TSECRET-1", "TSECRET-2"]


def test_a_token_is_only_taken_from_a_requester_with_the_same_groups(clients):
    first = get(clients["alice"], verb="ListIdentifiers", metadataPrefix="oai_dc",
                set="experiment:taiga")
    token = first.find(f".//{O}resumptionToken").text
    assert get(clients["alice"], verb="ListIdentifiers", resumptionToken=token).find(
        f"{O}ListIdentifiers") is not None
    for other in ("anonymous", "bob"):
        replayed = get(clients[other], verb="ListIdentifiers", resumptionToken=token)
        assert replayed.find(f"{O}error").get("code") == "badResumptionToken"
        assert b"SECRET" not in etree.tostring(replayed)
