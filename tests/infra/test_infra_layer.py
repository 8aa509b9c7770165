"""The Lambda layer: its requirements mirror pyproject + constraints, and a real local build
holds the orchestrix package and ARM64 builds of the compiled dependencies."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from infra.constructs.layer import PYTHON_VERSION, build_layer

pytestmark = pytest.mark.xdist_group("cdk")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[_canonical(name)] = version.strip()
    return pins


def test_layer_requirements_are_pyproject_dependencies_pinned_by_constraints() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    pins = _pins()
    expected = set()
    for dependency in pyproject["project"]["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]+\])?", dependency)
        assert match, f"unpinnable dependency spec {dependency!r}"
        name, extras = match.group(1), match.group(2) or ""
        expected.add(f"{_canonical(name)}{extras}=={pins[_canonical(name)]}")

    lines = (REPO_ROOT / "layers" / "requirements.txt").read_text().splitlines()
    actual = set()
    for line in lines:
        if line and not line.startswith("#"):
            spec, _, version = line.partition("==")
            name, _, extras = spec.partition("[")
            actual.add(f"{_canonical(name)}{'[' + extras if extras else ''}=={version}")

    assert actual == expected


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
         "--dest", str(tmp_path_factory.mktemp("probe")), "--only-binary=:all:",
         "--platform", "manylinux2014_aarch64", "--python-version", PYTHON_VERSION,
         "--implementation", "cp", f"tzdata=={_pins()['tzdata']}"],
        capture_output=True, timeout=120,
    )  # fmt: skip
    if probe.returncode != 0:
        pytest.skip("the package index is unreachable: the layer cannot be built offline")
    out = tmp_path_factory.mktemp("layer")
    build_layer(out)
    return out / "python"


def test_layer_ships_the_xray_sdk_that_tracing_loads(built_layer: Path) -> None:
    # -c tracing=true makes every function import Powertools' Tracer, which needs it.
    assert (built_layer / "aws_xray_sdk" / "core" / "__init__.py").is_file()
    assert list((built_layer).glob("wrapt*"))


def test_layer_contains_the_orchestrix_package(built_layer: Path) -> None:
    assert (built_layer / "orchestrix" / "wiring.py").is_file()
    assert (built_layer / "orchestrix" / "py.typed").is_file()
    assert not list((built_layer / "orchestrix").rglob("__pycache__"))


@pytest.mark.parametrize(
    "package", ["psycopg_binary", "pydantic_core", "cramjam", "yaml", "cryptography", "rpds"]
)
def test_compiled_dependencies_are_arm64_builds_for_python312(
    built_layer: Path, package: str
) -> None:
    extensions = list((built_layer / package).rglob("*.so"))

    assert extensions, f"{package} has no compiled extension"
    for extension in extensions:
        header = extension.read_bytes()[:20]
        assert header[:4] == b"\x7fELF"
        # e_machine 0xB7 = EM_AARCH64 (little-endian, at offset 18)
        assert int.from_bytes(header[18:20], "little") == 0xB7, extension.name
    assert any("cpython-312" in e.name or "abi3" in e.name for e in extensions)


def test_layer_has_no_x86_64_extension(built_layer: Path) -> None:
    assert not [p.name for p in built_layer.rglob("*x86_64*.so")]
