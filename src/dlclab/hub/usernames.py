"""Which names may become hub users when each hub user is a system user (one machine).

``LocalAuthenticator`` runs a hub user's server as the system account *of the same
name*, creating it only when it is missing. So a hub user named like an existing account
(``root``, ``daemon``, a course's ``grader-<course>``, the service account) would run as
that account. The rule here: a name is acceptable if no system account of that name
exists yet (the lab will create it, marked with :data:`LAB_USER_COMMENT`), or the
account that exists was created by the lab for a hub user. Names the lab keeps for
itself (prefixes :data:`RESERVED_PREFIXES`, :data:`RESERVED_NAMES`) and names of existing
groups (``useradd`` makes a private group of the same name) are never acceptable.
"""
from __future__ import annotations

import grp
import pwd
import re

#: the GECOS field of the system accounts the lab creates for hub users
LAB_USER_COMMENT = "dlclab hub user"
#: prefixes of accounts the lab creates for itself (graders, the service account)
RESERVED_PREFIXES = ("grader-", "dlclab-")
RESERVED_NAMES = frozenset({"root", "nobody", "admin-service", "jupyter", "jovyan"})
#: Debian's ``NAME_REGEX`` (adduser.conf) without the trailing ``$`` of machine accounts
NAME_PATTERN = re.compile(r"^[a-z][-a-z0-9_]{0,31}$")
#: ``UID_MIN``/``UID_MAX`` of Debian's login.defs: accounts outside are system accounts
UID_MIN, UID_MAX = 1000, 60000


def refusal(name: str) -> str | None:
    """Why ``name`` cannot be a hub user backed by a system account, or None if it can."""
    if not NAME_PATTERN.match(name):
        return (f"user name {name!r}: expected a lowercase letter, then up to 31 lowercase "
                "letters, digits, '-' or '_'")
    if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
        return f"user name {name!r} is reserved for the lab's own accounts"
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        account = None
    if account is None:
        try:
            grp.getgrnam(name)
        except KeyError:
            return None
        return f"user name {name!r} is the name of an existing system group"
    if not UID_MIN <= account.pw_uid <= UID_MAX:
        return f"user name {name!r} is a system account (uid {account.pw_uid})"
    if account.pw_gecos.split(",")[0] != LAB_USER_COMMENT:
        return f"user name {name!r} belongs to a system account the lab did not create"
    return None
