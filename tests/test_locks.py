"""The lock files pin every dependency the requirements*.txt inputs name, with hashes.

When this fails after adding a dependency: run ./scripts/lock.sh and commit the .lock files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent

LOCKS = {
    "requirements.lock": ["requirements.txt"],
    "requirements-kiosk.lock": ["requirements-kiosk.txt"],
    "requirements-dev.lock": ["requirements-dev.txt", "requirements-kiosk.txt"],
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")


def inputs(name: str) -> list[Requirement]:
    """The requirements an input names, following `-r` includes."""
    found: list[Requirement] = []
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            found += inputs(line[2:].strip())
        elif line:
            found.append(Requirement(line))
    return found


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    found = {canonicalize_name(m[1]): m[2] for m in map(PIN.match, text.splitlines()) if m}
    # Every pinned entry carries at least one hash, so pip installs it in hash-checking mode.
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1].strip())
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry), lock
    return found


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_lock_pins_every_input_requirement_within_its_range(lock: str) -> None:
    pinned = pins(lock)
    for source in LOCKS[lock]:
        for requirement in inputs(source):
            name = canonicalize_name(requirement.name)
            assert name in pinned, f"{name} ({source}) is not in {lock}: run ./scripts/lock.sh"
            assert requirement.specifier.contains(pinned[name], prereleases=True), (
                f"{lock} pins {name}=={pinned[name]}, outside {source}'s {requirement.specifier}:"
                " run ./scripts/lock.sh"
            )


def test_locks_agree_on_every_version_they_share() -> None:
    full = pins("requirements-dev.lock")
    for lock in ("requirements.lock", "requirements-kiosk.lock"):
        for name, version in pins(lock).items():
            assert full.get(name) == version, f"{lock} and requirements-dev.lock differ on {name}"
