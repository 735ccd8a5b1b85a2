"""The lock file (requirements.lock): what `make run`, `make test` and CI install.

A fresh machine gets the versions CI tested: the Makefile installs the lock
(with hashes) and then Keywarden itself without resolving anything, again
whenever the lock changes; the lock pins every dependency pyproject.toml
names; and this environment holds exactly the locked versions.
"""

from __future__ import annotations

import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def locked() -> dict[str, Requirement]:
    """The lock's pins by canonical name (``name==version ; marker``, hashes left out)."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            requirement = Requirement(line.rstrip(" \\"))
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def test_a_changed_lock_makes_the_makefile_install_from_it_then_keywarden_alone() -> None:
    # when: make is asked what it would do if the lock had just changed
    dry_run = subprocess.run(
        ["make", "-n", "-W", "requirements.lock", ".venv/.installed"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )

    # then
    commands = dry_run.stdout.splitlines()
    from_lock = [c for c in commands if "--require-hashes -r requirements.lock" in c]
    itself = [c for c in commands if "--no-deps -e ." in c]
    assert len(from_lock) == 1 and len(itself) == 1, dry_run.stdout
    assert commands.index(from_lock[0]) < commands.index(itself[0])
    assert not any("install" in c and "[dev]" in c for c in commands)


def test_the_lock_pins_every_dependency_of_pyproject_with_hashes() -> None:
    # given
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    for requirement in map(Requirement, extras["dev"]):
        if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
            # dev takes another extra of ours (keywarden[otel]): its requirements count
            wanted += [Requirement(r) for extra in requirement.extras for r in extras[extra]]
        else:
            wanted.append(requirement)
    pins = locked()

    # then
    for requirement in wanted:
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement.name} is not in requirements.lock: run make lock"
        [version] = [s.version for s in pin.specifier if s.operator == "=="]
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
    hashed = LOCK.read_text().count("==")
    assert LOCK.read_text().count("--hash=sha256:") >= hashed


def test_this_environment_holds_the_locked_versions() -> None:
    # given
    pins = locked()

    # when
    differing = {
        name: (str(pin.specifier), metadata.version(name))
        for name, pin in pins.items()
        if pin.marker is None or pin.marker.evaluate()
        if not pin.specifier.contains(metadata.version(name), prereleases=True)
    }

    # then
    assert differing == {}
