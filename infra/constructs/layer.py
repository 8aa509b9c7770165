"""The `orchestrix` package and its runtime dependencies as one Lambda layer.

Built by local bundling — pip downloads manylinux ARM64 wheels for CPython 3.12 — so no
Docker engine is needed; the Docker image is only the fallback CDK requires to be named.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON_VERSION = "3.12"
# Lambda's Python 3.12 runtime is Amazon Linux 2023 (glibc 2.34): manylinux wheels up to
# 2_34 run there; some dependencies (cramjam) publish only manylinux_2_28 ARM64 wheels.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
# Files of the package that never belong in the layer (and must not change its hash).
_IGNORED = ("__pycache__", ".pyc", ".egg-info", ".mypy_cache", ".pytest_cache")


def build_layer(output_dir: Path, repo_root: Path = REPO_ROOT) -> None:
    """Write `<output_dir>/python/` with the runtime dependencies and the orchestrix package."""
    target = output_dir / "python"
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--disable-pip-version-check",
            "-r",
            str(repo_root / "layers" / "requirements.txt"),
            "-c",
            str(repo_root / "constraints.txt"),
            "--target",
            str(target),
            *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
            "--only-binary=:all:",
            "--python-version",
            PYTHON_VERSION,
            "--implementation",
            "cp",
        ],
        check=True,
    )
    shutil.copytree(
        repo_root / "layers" / "orchestrix",
        target / "orchestrix",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )


def source_hash(repo_root: Path = REPO_ROOT) -> str:
    """Hash of everything the layer is built from, so it is rebuilt only when that changes."""
    digest = hashlib.sha256()
    inputs = [repo_root / "layers" / "requirements.txt", repo_root / "constraints.txt"]
    inputs += sorted(
        p
        for p in (repo_root / "layers" / "orchestrix").rglob("*")
        if p.is_file() and not any(part in str(p) for part in _IGNORED)
    )
    for path in inputs:
        digest.update(str(path.relative_to(repo_root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@jsii.implements(cdk.ILocalBundling)
class _LocalLayerBundling:
    def __init__(self, repo_root: Path) -> None:
        self._repo_root = repo_root

    def try_bundle(self, output_dir: str, *_options: Any, **_kw: Any) -> bool:
        # jsii passes the BundlingOptions struct positionally; nothing in it is needed here.
        build_layer(Path(output_dir), self._repo_root)
        return True


class OrchestrixLayer(Construct):
    """`/opt/python/orchestrix` + pinned dependencies, ARM64, Python 3.12."""

    def __init__(self, scope: Construct, id: str, *, repo_root: Path = REPO_ROOT) -> None:
        super().__init__(scope, id)
        code = lambda_.Code.from_asset(
            str(repo_root / "layers"),
            asset_hash_type=cdk.AssetHashType.CUSTOM,
            asset_hash=source_hash(repo_root),
            bundling=cdk.BundlingOptions(
                image=lambda_.Runtime.PYTHON_3_12.bundling_image,
                local=_LocalLayerBundling(repo_root),
                command=["false"],  # never reached: local bundling always succeeds or raises
            ),
        )
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=code,
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="orchestrix package + runtime dependencies (Python 3.12, arm64)",
        )
