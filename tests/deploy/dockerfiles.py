"""Just enough Dockerfile and .dockerignore reading for the image tests."""
from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int


def instructions(path: Path) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    result, buffer, start = [], "", 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        keyword, _, arguments = buffer.partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip(), start))
        buffer = ""
    return result


def copy_sources(instruction: Instruction) -> list[str]:
    """Build-context sources of a COPY/ADD (none for COPY --from=...)."""
    words = shlex.split(instruction.arguments)
    if any(w.startswith("--from") for w in words):
        return []
    words = [w for w in words if not w.startswith("--")]
    return words[:-1]


def pip_installs(instruction: Instruction) -> list[list[str]]:
    """The argument lists of every ``pip install`` inside a RUN instruction."""
    found = []
    for command in re.split(r"&&|;|\|\|", instruction.arguments):
        words = shlex.split(command)
        for i, word in enumerate(words):
            if word.endswith("pip") and words[i + 1:i + 2] == ["install"]:
                found.append(words[i + 2:])
    return found


class DockerIgnore:
    """Docker's .dockerignore semantics: patterns in order, the last match wins, ``!``
    re-includes; a pattern matching a folder covers everything below it."""

    def __init__(self, path: Path) -> None:
        self.rules = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            include = line.startswith("!")
            pattern = line.lstrip("!").strip("/")
            self.rules.append((pattern, include))

    @staticmethod
    def _matches(pattern: str, relpath: str) -> bool:
        parts = relpath.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if pattern.startswith("**/"):
            tail = pattern[3:]
            return any(fnmatch.fnmatchcase(p, tail) for p in parts) or any(
                fnmatch.fnmatchcase("/".join(parts[i:]), tail) for i in range(len(parts)))
        return any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes)

    def included(self, relpath: str) -> bool:
        keep = True
        for pattern, include in self.rules:
            if self._matches(pattern, relpath):
                keep = include
        return keep
