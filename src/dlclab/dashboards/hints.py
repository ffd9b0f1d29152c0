"""What a dashboard shows instead of an error: in words, what is missing and the command
that provides it. The HTML carries the class ``dlc-missing`` (the browser test and the
stylesheet find it by that)."""
from __future__ import annotations

import html
import re

#: a shell command inside a hint is written in backticks, like in the docs
_COMMAND = re.compile(r"`([^`]+)`")
#: rough duration of each analysis with default parameters on the sample releases
#: (docs/analyses.md, "full-size runs"): said in the hint so that nobody waits in doubt
RUN_TIME = {"kascade_spectrum": "about 10 s", "tunka_spectrum": "about 5 s",
            "combined_spectrum": "about 20 s", "arrival_directions": "about 15 s",
            "iact_deep_learning": "about a minute"}


def as_html(text: str) -> str:
    """``text`` escaped, with each `command` as ``<code>``."""
    return _COMMAND.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text, quote=False))


def missing_html(text: str) -> str:
    """A hint block for an ``ipywidgets.HTML``."""
    return f"<div class='dlc-missing'>{as_html(text)}</div>"


def no_run(notebook: str, what: str) -> str:
    """Text for a dashboard that needs a completed run of ``notebook`` for ``what``."""
    took = RUN_TIME.get(notebook, "a short while")
    return (f"No completed {notebook} run of yours yet (it gives the {what}). Run "
            f"`dlclab run {notebook}` in a terminal of the lab ({took}), then reload this page.")
