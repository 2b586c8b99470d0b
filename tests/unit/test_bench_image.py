"""bench/image.py: layer archives are measured as pushed layers are, and the page says the sums."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import image


def test_archive_counts_files_and_compresses_like_a_layer(tmp_path: Path) -> None:
    folder = tmp_path / "venv"
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "tool").write_bytes(b"x" * 10_000)
    (folder / "bin" / "link").symlink_to("tool")
    sizes = image.archive([(folder, "opt/venv")])
    assert sizes["files"] == 1  # the symlink is archived but holds no bytes of its own
    assert sizes["unpacked"] == 10_000
    assert 0 < sizes["compressed"] < 10_000


def _layer(files: int, unpacked: int, compressed: int) -> dict[str, int]:
    return {"files": files, "unpacked": unpacked, "compressed": compressed}


def _data() -> dict[str, Any]:
    shared = {name: _layer(1, 1_000, 1_000_000) for name in {*image.ADDED, *image.PREVIOUS}}
    shared["previous: RUN python -m venv (pip, setuptools)"] = _layer(1474, 22_000_000, 7_400_000)
    deps = {"wheels": 14, "wheel_bytes": 8_500_000, "deps": _layer(1037, 32_000_000, 10_000_000)}
    return {
        "base": image.BASE_IMAGE,
        "shared": shared,
        "platforms": {"linux/amd64": deps, "linux/arm64": deps},
        "steps": {"venv with ensurepip": 4.0, "venv --without-pip": 0.1},
        "start_cpu": {"all compiled": 0.4, "standard library not compiled": 1.1},
    }


def test_totals_add_the_layers_of_each_dockerfile() -> None:
    ours, before = image.totals(_data(), "linux/amd64")
    assert ours == 4 * 1_000_000 + 10_000_000
    assert before == 7_400_000 + 3 * 1_000_000 + 10_000_000


def test_render_names_every_layer_and_the_start_cost() -> None:
    text = image.render(_data())
    assert "| base `python:3.11-slim-bookworm` (linux/amd64, published size) | | | 47.8" in text
    assert "(linux/arm64: 14 wheels, 8.50 MB)" in text
    assert "linux/amd64 **14.00 MB** (previous Dockerfile 20.40 MB)" in text
    assert "costs **0.70 s** of CPU" in text
