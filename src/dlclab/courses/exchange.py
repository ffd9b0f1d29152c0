"""nbgrader exchange hardened for a shared machine.

nbgrader's own collect only *warns* when a submission's folder is not owned by the
student it names ("cheating attempt?") and collects it anyway. On a hub where the
student id is the OS user, ownership is the proof of identity, so here such a
submission is refused: nobody can submit as someone else, and a forged newer
submission cannot hide the student's genuine one.
"""
from __future__ import annotations

import os
import pwd

from nbgrader.exchange.default.collect import ExchangeCollect


class OwnerCheckedCollect(ExchangeCollect):
    """Collect that ignores submissions whose folder owner is not the named student."""

    def _owned_by_student(self, record: dict) -> bool:
        path = os.path.join(self.inbound_path, record["filename"])
        try:
            owner = pwd.getpwuid(os.stat(path).st_uid).pw_name
        except KeyError:
            owner = None
        if owner != record["username"]:
            self.log.error("Refusing submission %s: it names student %r but is owned by %r",
                           path, record["username"], owner)
            return False
        return True

    def _sort_by_timestamp(self, records):
        # Called per student before the newest submission is picked: drop forgeries first.
        genuine = [r for r in records if self._owned_by_student(r)]
        return super()._sort_by_timestamp(genuine or records)

    def init_src(self):
        super().init_src()
        self.src_records = [r for r in self.src_records if self._owned_by_student(r)]
