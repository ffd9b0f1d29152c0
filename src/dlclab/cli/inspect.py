"""dlclab inspect FILE [--json]: what is in a raw file or export, like ffprobe."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EPILOG = """\
The format is detected from the bytes (magic and package structure), never from the
file name. TAIGA raw files: tunka133, tunka_rex, tunka_grande, taiga_iact,
taiga_hiscore. KCDC exports: kcdc_ascii (a directory or its Info.txt), kcdc_hdf5,
kcdc_root. A damaged file is still summarised as far as it is valid; what is wrong
is listed under "errors" and the exit status is 1.

examples:
  dlclab inspect ../shared/fixtures/taiga/t133.001
  dlclab inspect ../shared/fixtures/taiga/iact.001 --json
  dlclab inspect data/raw/kcdc/NABOO/KASCADE_SmallDataSample_ASCII --json
"""
KEYS = ("format", "bytes", "sha256", "packages", "events", "first_event", "last_event",
        "first_time", "last_time", "clusters", "optical_line_length", "errors")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect", help="show what is in a raw TAIGA file or a KCDC export",
        description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="raw file, export file or export directory")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _sha256(path) -> str | None:
    import hashlib
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _size(path) -> int:
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def inspect_file(path) -> dict[str, Any]:
    """The summary ``dlclab inspect --json`` prints (keys: see KEYS)."""
    import warnings

    from dlclab.errors import FormatError
    from dlclab.formats.detect import detect_format

    out: dict[str, Any] = {key: None for key in KEYS}
    out["errors"] = []
    out["clusters"] = []
    out["bytes"] = _size(path)
    out["sha256"] = _sha256(path)
    try:
        fmt = detect_format(path)
    except FormatError as exc:
        out["errors"].append(str(exc))
        return out
    out["format"] = fmt
    if fmt.startswith("kcdc_"):
        try:
            from dlclab.formats import kcdc
        except ImportError as exc:
            out["errors"].append(f"KCDC support is not available yet ({exc})")
            return out
        summarize = getattr(kcdc, "summarize", None)
        if summarize is None:
            out["errors"].append("dlclab.formats.kcdc has no summarize() yet")
            return out
        try:
            summary = summarize(path)
        except Exception as exc:  # noqa: BLE001 - h5py/uproot errors of a broken export
            out["errors"].append(str(exc) if isinstance(exc, FormatError)
                                 else f"{path}: {type(exc).__name__}: {exc}")
            return out
        out.update({k: v for k, v in summary.items() if k not in ("bytes", "sha256", "errors")})
        if out["sha256"] is None:  # a directory: the export's own checksum, if it gives one
            out["sha256"] = summary.get("sha256")
        out["errors"] += list(summary.get("errors", []))
        return out
    from dlclab.formats.taiga import read_file

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = read_file(path, fmt, allow_truncated=True)  # summarise the valid prefix
    out["errors"] += [str(w.message) for w in caught]
    out.update(data.summary())
    return out


def _human(summary: dict[str, Any], path: str) -> str:
    lines = [f"{path}: {summary['format'] or 'unknown format'}"]
    size = summary["bytes"]
    lines.append(f"  size        {size} bytes" + (f", sha256 {summary['sha256']}" if summary["sha256"] else ""))
    if summary["packages"] is not None:
        lines.append(f"  packages    {summary['packages']}")
    if summary["events"] is not None:
        lines.append(f"  events      {summary['events']} (numbers {summary['first_event']} .. {summary['last_event']})")
    if summary["first_time"] is not None:
        lines.append(f"  time        {summary['first_time']} .. {summary['last_time']} (time of day)")
    if summary["clusters"]:
        label = "stations" if summary["format"] == "taiga_hiscore" else "clusters"
        lines.append(f"  {label:<11} {', '.join(map(str, summary['clusters']))}")
    if summary.get("boards"):
        lines.append(f"  boards      {', '.join(map(str, summary['boards']))}")
    if summary["optical_line_length"] is not None:
        lines.append(f"  optical line length  {summary['optical_line_length']} m")
    for key, value in summary.items():
        if key not in KEYS and key != "boards":
            lines.append(f"  {key:<11} {value}")
    for error in summary["errors"]:
        lines.append(f"  ERROR       {error}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    summary = inspect_file(args.file)
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(_human(summary, args.file))
    return 1 if summary["errors"] else 0
