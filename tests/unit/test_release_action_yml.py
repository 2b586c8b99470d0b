"""scripts/release_action_yml.py: the release form changes runs.image and nothing else."""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "release_action_yml.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release_action_yml", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_SCRIPT = _load_script()
ShapeError: type[Exception] = _SCRIPT.ShapeError
ACTION_YML = ROOT / "action.yml"
DIGEST = "sha256:" + "0123456789abcdef" * 4
REFERENCE = f"ghcr.io/octo-org/capwrapper-action@{DIGEST}"


def released(text: str, reference: str = REFERENCE) -> str:
    out: str = _SCRIPT.release_form(text, reference)
    return out


def main(argv: list[str]) -> int:
    code: int = _SCRIPT.main(argv)
    return code


def test_real_action_yml_changes_in_runs_image_only() -> None:
    text = ACTION_YML.read_text(encoding="utf-8")
    out = released(text)
    before, after = text.split("\n"), out.split("\n")
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("  image: Dockerfile", f"  image: docker://{REFERENCE}")]
    want: dict[str, Any] = copy.deepcopy(yaml.safe_load(text))
    want["runs"]["image"] = f"docker://{REFERENCE}"
    assert yaml.safe_load(out) == want


def test_comments_quoting_and_line_endings_are_kept() -> None:
    text = (
        "# header\r\n"
        "name: 'x'   # quoted\r\n"
        "runs:\r\n"
        "  # the image\r\n"
        "  using: \"docker\"\r\n"
        "  image:   'Dockerfile'   # built in every job\r\n"
        "  args: [\"--flag\"]\r\n"
        "branding: {icon: box}"
    )
    out = released(text)
    assert out == text.replace(
        "  image:   'Dockerfile'   #", f"  image:   docker://{REFERENCE}   #"
    )


def test_other_keys_named_image_are_left_alone() -> None:
    text = (
        "inputs:\n  image:\n    description: >-\n      image: Dockerfile\n"
        "runs:\n  using: docker\n  env:\n    image: Dockerfile\n  image: Dockerfile\n"
    )
    assert released(text) == text.removesuffix("  image: Dockerfile\n") + (
        f"  image: docker://{REFERENCE}\n"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("runs:\n  using: docker\n  image: docker://ghcr.io/a/b@x\n", "already released"),
        ("runs:\n  using: node20\n  main: index.js\n", "no `image:`"),
        ("runs:\n  using: composite\n  image: Dockerfile\n", "not 'docker'"),
        ("runs: {using: docker, image: Dockerfile}\n", "block mapping"),
        ("name: x\n", "one top-level `runs:`"),
        ("runs:\n  using: docker\n  image: Dockerfile\nruns:\n  using: docker\n", "found 2"),
        ("runs:\n  using: docker\n  image: Dockerfile\n  image: Dockerfile\n", "repeats"),
        ("runs:\n  using: docker\n  image: >-\n    Dockerfile\n", "one-line scalar"),
        ("runs:\n", "empty"),
    ],
)
def test_unexpected_shapes_are_refused(text: str, words: str) -> None:
    with pytest.raises(ShapeError, match=words.replace("`", ".").replace("'", ".")):
        released(text)


@pytest.mark.parametrize(
    "reference",
    [
        f"docker://{REFERENCE}",
        "ghcr.io/octo-org/capwrapper-action:1.2.3",
        f"ghcr.io/octo-org/capwrapper-action:1.2.3@{DIGEST}",
        f"ghcr.io/Octo-Org/capwrapper-action@{DIGEST}",
        f"ghcr.io/capwrapper-action@{DIGEST}",
        f"docker.io/octo-org/capwrapper-action@{DIGEST}",
        f"ghcr.io.example.com/octo-org/capwrapper-action@{DIGEST}",
        f"ghcr.io:443/octo-org/capwrapper-action@{DIGEST}",
        "ghcr.io/octo-org/capwrapper-action@sha256:" + "0" * 63,
        "ghcr.io/octo-org/capwrapper-action@sha256:" + "0" * 65,
        "ghcr.io/octo-org/capwrapper-action@sha256:" + "A" * 64,
        "ghcr.io/octo-org/capwrapper-action@sha512:" + "0" * 128,
        f"{REFERENCE}\n",
        f" {REFERENCE}",
        "",
    ],
)
def test_anything_but_a_ghcr_reference_pinned_by_digest_is_refused(
    reference: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    action = tmp_path / "action.yml"
    action.write_bytes(ACTION_YML.read_bytes())
    assert main([reference, "--action-yml", str(action)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ghcr.io/OWNER/NAME@sha256:" in captured.err
    assert action.read_bytes() == ACTION_YML.read_bytes()


def test_a_file_in_another_shape_exits_1_printing_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    action = tmp_path / "action.yml"
    action.write_text("runs:\n  using: docker\n  image: docker://x\n", encoding="utf-8")
    assert main([REFERENCE, "--action-yml", str(action)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "already released" in captured.err


def test_command_line_prints_the_release_form_and_writes_nothing() -> None:
    before = ACTION_YML.read_bytes()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), REFERENCE],
        capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == released(before.decode("utf-8")).encode("utf-8")
    assert ACTION_YML.read_bytes() == before
