"""Per-user export quota: how many live exports and how many bytes of finished ones a
user may hold (:attr:`ServiceSettings.export_quota_count`, ``export_quota_bytes``).

Exports are files on the service's disk for two weeks; without a limit one user (or a
script in a loop) fills the disk for everyone. Refusals say the limit, the usage and how
to free space.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dlclab.errors import DlclabError
from dlclab.metadata.models import ExportRequest, utcnow

#: an export holds a place (and, once done, its bytes) until it fails, expires or is deleted
LIVE = ("queued", "running", "done")


class QuotaExceeded(DlclabError):
    """A new export request is over its owner's quota (the service answers 429)."""


def human(n: int) -> str:
    """Bytes for people: ``1.5 MiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Usage:
    count: int
    bytes: int


@dataclass(frozen=True)
class Quota:
    count: int
    bytes: int
    #: how a user frees space, appended to every refusal
    how_to_free: str = ("delete exports you no longer need (DELETE /api/exports/{id}, or "
                        "'delete' on the service's page) or wait until they expire")

    def usage(self, session: Session, owner: str, *, excluding: str | None = None) -> Usage:
        """``owner``'s live exports (count) and the bytes of their finished ones."""
        stmt = select(func.count(), func.coalesce(func.sum(ExportRequest.size_bytes), 0)).where(
            ExportRequest.owner == owner, ExportRequest.status.in_(LIVE),
            ExportRequest.expires_utc >= utcnow())
        if excluding is not None:
            stmt = stmt.where(ExportRequest.id != excluding)
        count, size = session.execute(stmt).one()
        return Usage(int(count), int(size))

    def check_new(self, usage: Usage) -> None:
        """Raise :class:`QuotaExceeded` if one more export would pass the quota."""
        summary = (f"you hold {usage.count} live exports (limit {self.count}) using "
                   f"{human(usage.bytes)} (limit {human(self.bytes)})")
        if usage.count >= self.count:
            raise QuotaExceeded(f"export quota reached: {summary}; {self.how_to_free}")
        if usage.bytes >= self.bytes:
            raise QuotaExceeded(f"export storage quota reached: {summary}; {self.how_to_free}")

    def check_result(self, usage: Usage, size: int) -> None:
        """Raise :class:`QuotaExceeded` if a finished export of ``size`` bytes, with the
        owner's other exports (``usage``), passes the byte limit."""
        if usage.bytes + size > self.bytes:
            raise QuotaExceeded(
                f"the export is {human(size)}; with your other exports ({human(usage.bytes)}) "
                f"it passes your export storage quota of {human(self.bytes)}, so it was not "
                f"kept: {self.how_to_free}, or narrow the selection, then request it again")
