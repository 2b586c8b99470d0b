""".ci/release.sh, the git side of a release, in a scratch repository: the version check, the
release commit (one line of action.yml, off main), the tags and the release notes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "5" * 64
IMAGE = f"ghcr.io/octo-org/capwrapper-action@{DIGEST}"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Release Bot", "GIT_AUTHOR_EMAIL": "bot@example.com",
    "GIT_COMMITTER_NAME": "Release Bot", "GIT_COMMITTER_EMAIL": "bot@example.com",
}  # fmt: skip


def environment(home: Path) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
        "REPOSITORY": "octo-org/capwrapper-action",
        **IDENTITY,
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in (".ci/release.sh", "scripts/release_action_yml.py", "action.yml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    git(root, "init", "--quiet", "--initial-branch", "main")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "--message", "First version of the action")
    return root


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=environment(repo.parent), capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return done.stdout.strip()


def release(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", ".ci/release.sh", *args], cwd=repo, env=environment(repo.parent),
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def outputs(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def change_main(repo: Path, subject: str) -> str:
    (repo / "CHANGES").write_text(subject, encoding="utf-8")
    git(repo, "add", "CHANGES")
    git(repo, "commit", "--quiet", "--message", subject)
    return git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    ("version", "words"),
    [
        ("1.2", "is not X.Y.Z"),
        ("v1.2.3", "is not X.Y.Z"),
        ("01.2.3", "is not X.Y.Z"),
        ("1.2.3-rc.1", "is not X.Y.Z"),
        ("", "is not X.Y.Z"),
        ("1.4.0", "exists already"),
        ("1.3.9", "not above the newest release v1.4.0"),
        ("0.9.0", "not above the newest release v1.4.0"),
    ],
)
def test_check_refuses(repo: Path, version: str, words: str) -> None:
    git(repo, "tag", "v1.4.0")
    git(repo, "tag", "v1.10")  # not a release tag: ignored
    done = release(repo, "check", version)
    assert done.returncode == 1
    assert words in done.stderr


@pytest.mark.parametrize("version", ["1.4.1", "1.10.0", "2.0.0"])
def test_check_accepts_a_new_higher_version(repo: Path, version: str) -> None:
    git(repo, "tag", "v1.4.0")
    assert release(repo, "check", version).returncode == 0


def test_commit_pins_the_image_off_main_and_tags_it(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    out = outputs(release(repo, "commit", "1.0.0", IMAGE))
    sha = out["commit"]
    assert out["tag"] == "v1.0.0"
    assert out["major"] == "v1"
    assert git(repo, "rev-parse", "HEAD") == head  # main does not move
    assert git(repo, "status", "--porcelain") == ""  # working tree and index untouched
    assert git(repo, "rev-parse", f"{sha}^") == head
    assert git(repo, "diff", "--name-only", head, sha) == "action.yml"
    released = git(repo, "show", f"{sha}:action.yml")
    assert f"  image: docker://{IMAGE}" in released.splitlines()
    assert "image: Dockerfile" in git(repo, "show", "HEAD:action.yml")
    assert git(repo, "cat-file", "-t", "v1.0.0") == "tag"  # annotated
    assert git(repo, "rev-parse", "v1.0.0^{commit}") == git(repo, "rev-parse", "v1") == sha
    message = git(repo, "log", "-1", "--format=%B", sha)
    assert message.startswith("Release v1.0.0\n")
    assert IMAGE in message
    assert head in message


def test_next_release_moves_the_major_tag_only(repo: Path) -> None:
    first = outputs(release(repo, "commit", "1.0.0", IMAGE))["commit"]
    change_main(repo, "Retry less")
    second = outputs(release(repo, "commit", "1.1.0", IMAGE))["commit"]
    assert git(repo, "rev-parse", "v1") == second
    assert git(repo, "rev-parse", "v1.0.0^{commit}") == first
    assert release(repo, "commit", "1.1.0", IMAGE).returncode == 1  # never overwritten


@pytest.mark.parametrize("image", ["ghcr.io/octo-org/capwrapper-action:1.0.0", "docker.io/a/b@x"])
def test_commit_refuses_an_image_not_pinned_by_digest(repo: Path, image: str) -> None:
    done = release(repo, "commit", "1.0.0", image)
    assert done.returncode != 0
    assert "not a ghcr.io image pinned by digest" in done.stderr
    assert git(repo, "tag", "--list") == ""


def test_notes_list_the_changes_on_main_since_the_last_release(repo: Path) -> None:
    outputs(release(repo, "commit", "1.0.0", IMAGE))
    change_main(repo, "Wait out rate limits by time")
    source = change_main(repo, "Comment on the pull request")
    sha = outputs(release(repo, "commit", "1.1.0", IMAGE))["commit"]
    done = release(repo, "notes", "1.1.0", IMAGE)
    assert done.returncode == 0, done.stderr
    notes = done.stdout
    assert f"- uses: octo-org/capwrapper-action@{sha} # v1.1.0" in notes
    assert f"`{IMAGE}` (linux/amd64, linux/arm64)" in notes
    assert f"gh attestation verify oci://{IMAGE} --repo octo-org/capwrapper-action" in notes
    assert f"built from {source}" in notes
    changes = notes.split("### Changes since v1.0.0\n", 1)[1]
    subjects = [line.split(" (")[0] for line in changes.strip().splitlines()]
    assert subjects == ["- Comment on the pull request", "- Wait out rate limits by time"]


def test_first_release_notes(repo: Path) -> None:
    outputs(release(repo, "commit", "0.1.0", IMAGE))
    notes = release(repo, "notes", "0.1.0", IMAGE).stdout
    assert notes.rstrip().endswith("### Changes\n\nFirst release.")


def test_usage(repo: Path) -> None:
    done = release(repo, "publish", "1.0.0")
    assert done.returncode == 2
    assert ".ci/release.sh check VERSION" in done.stderr
