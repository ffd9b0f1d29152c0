"""The lab's authenticator: NativeAuthenticator (sign-up with admin approval, bcrypt
password hashes, lock-out after failed logins, change-password page) that, when the hub
runs as root, also creates each hub user as a system user with a private home.

Accounts the lab itself needs (the admin, demo users, test users) are listed in an
``accounts_file`` (JSON ``{name: password}``, mode 0600, in the hub's state dir); they are
created approved when the authenticator starts, before the hub serves any page, so nobody
can sign up as ``admin`` first. Existing accounts are never overwritten (a password the
user changed stays changed).
"""
from __future__ import annotations

import json
from pathlib import Path

import bcrypt
from jupyterhub.auth import Authenticator, LocalAuthenticator
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.orm import UserInfo
from traitlets import Unicode

from dlclab.hub.usernames import LAB_USER_COMMENT, refusal

#: ``useradd`` flags: private home (Debian's default HOME_MODE makes homes world-readable),
#: and the comment that marks the account as one the lab made for a hub user
ADD_USER_CMD = ["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash",
                "-c", LAB_USER_COMMENT]


class _AccountsMixin(Authenticator):
    accounts_file = Unicode(
        "",
        config=True,
        help="JSON file {username: password} of accounts created approved at start.",
    )

    def ensure_accounts(self) -> list[str]:
        """Create the approved accounts of ``accounts_file`` that do not exist yet."""
        if not self.accounts_file or not Path(self.accounts_file).exists():
            return []
        accounts = json.loads(Path(self.accounts_file).read_text())
        created = []
        for name, password in accounts.items():
            name = self.normalize_username(name)
            if UserInfo.find(self.db, name) is not None:
                continue
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
            self.db.add(UserInfo(username=name, password=hashed, is_authorized=True))
            created.append(name)
        if created:
            self.db.commit()
            self.log.info("dlclab: created approved accounts %s", ", ".join(created))
        return created


class LabAuthenticator(_AccountsMixin, NativeAuthenticator):
    """Password accounts with admin approval; every user is the hub's own OS user.

    Used only when the hub does not run as root (no isolation between users)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ensure_accounts()


class LabSystemUserAuthenticator(_AccountsMixin, NativeAuthenticator, LocalAuthenticator):
    """Password accounts with admin approval, each hub user a system user (root only).

    Names that would make a hub user run as an account the lab did not create for it
    (``root``, ``grader-<course>``, any existing system account) are refused at sign-up,
    at creation through the REST API and at log-in (:mod:`dlclab.hub.usernames`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ensure_accounts()

    def validate_username(self, username: str) -> bool:
        reason = refusal(username)
        if reason is not None:
            self.log.warning("dlclab: refused: %s", reason)
            return False
        return super().validate_username(username)
