"""Resumption tokens: the rest of a list, carried by the harvester, kept nowhere here.

A token holds the list's arguments (format, set, from, until), the id of the last
release sent (pages follow the release id, so a release added during a harvest comes on
a later page and none is sent twice), the count sent so far and when the list was
started, and a digest of the access groups it was started with. Tokens grant nothing:
each page is selected again from what the requester may see now, and a token is only
taken from a requester with the same groups (another one, say a member's token replayed
anonymously, or a member removed from a group during the harvest, gets
``badResumptionToken``: the list's size and pages would not be theirs). The digest only tells a garbled or hand-made token from ours, so that the
harvester gets ``badResumptionToken`` instead of a wrong page; its key is fixed (the same
in every replica and across restarts: a harvest survives a restart of the service).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

_KEY = b"dlclab-das-oai-resumption"
_DIGEST_CHARS = 22


class BadToken(ValueError):
    """Not a token of this repository, or an expired one (the message says which)."""


@dataclass(frozen=True)
class ListState:
    prefix: str
    set_spec: str | None
    from_: str | None
    until: str | None
    after_id: int
    cursor: int
    started_utc: str  # ISO 8601, naive UTC
    groups: str  # :func:`groups_digest` of the requester who started the list

    def expires(self, ttl: timedelta) -> datetime:
        return datetime.fromisoformat(self.started_utc) + ttl


def _digest(payload: bytes) -> str:
    mac = hmac.new(_KEY, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:_DIGEST_CHARS]


def groups_digest(groups: frozenset[str]) -> str:
    return _digest("\n".join(sorted(groups)).encode())[:12]


def encode(state: ListState) -> str:
    payload = base64.urlsafe_b64encode(
        json.dumps(asdict(state), separators=(",", ":"), sort_keys=True).encode()
    ).decode().rstrip("=")
    return f"{payload}.{_digest(payload.encode())}"


def decode(token: str, now_utc: datetime, ttl: timedelta, groups: frozenset[str]) -> ListState:
    """The state of ``token``; :class:`BadToken` if it is not ours, expired at
    ``now_utc`` (naive UTC), or was started by a requester with other ``groups``."""
    payload, _, digest = token.partition(".")
    if not payload or len(token) > 2000 or not hmac.compare_digest(
            digest.encode(), _digest(payload.encode()).encode()):
        raise BadToken(f"resumptionToken {token[:80]!r} was not issued by this repository")
    try:
        fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        state = ListState(**fields)
        expires = state.expires(ttl)
    except (ValueError, TypeError) as exc:
        raise BadToken(f"resumptionToken {token[:80]!r} is malformed") from exc
    if now_utc > expires:
        raise BadToken(f"resumptionToken expired at {expires.isoformat()}Z: start the list "
                       "again without it")
    if not hmac.compare_digest(state.groups, groups_digest(groups)):
        raise BadToken("resumptionToken belongs to a list started with other access rights "
                       "(another token, or none): start the list again without it")
    return state
