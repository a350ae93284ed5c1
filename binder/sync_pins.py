"""Write the pinned set into constraints.txt and the conda environment files.

``make pins`` runs ``pip freeze`` in .venv into constraints.new, then this
script with that file, so that one command moves every version source:

- ``constraints.txt`` gets the frozen versions under its own header comment,
  with torch's local label dropped (``2.13.0+cpu`` becomes ``2.13.0``, a pin
  that the macOS wheels, which have no label, satisfy too).
- ``binder/environment.yml`` is rewritten whole: Binder gets the full pinned
  set, with torch taken from PyTorch's CPU wheel index.
- ``environment.yml`` keeps its layout and comments; only the version after
  ``==`` on each pinned line changes.

tests/test_versions.py checks the result, so a hand edit that drifts fails
the tests with the file and package named.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from softsample_helpers.setup_check import canonical_name, parse_pins, read_pins

REPO = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYTHON_VERSION = "3.11"

BINDER_HEADER = f"""\
# Binder's environment. repo2docker reads only binder/ when it exists, so the
# top-level environment.yml is not used on Binder.
#
# Generated from constraints.txt by `make pins` (binder/sync_pins.py): do not
# edit the versions here, change constraints.txt and run `make pins`.
#
# - Every package of the pinned set, at its exact version, so Binder runs
#   what the tests ran.
# - torch from PyTorch's CPU wheel index (+cpu): the default Linux wheel pulls
#   several GB of CUDA libraries, which Binder cannot use and which make the
#   image slow to build and to start.
# - No reference to other files of the repository: repo2docker installs this
#   file before it copies the repository in. binder/postBuild installs the
#   course's own package afterwards.
name: softsample
channels:
  - conda-forge
dependencies:
  - python={PYTHON_VERSION}
  - pip
  - pip:
      - --extra-index-url {CPU_INDEX}
"""

_PIN_LINE = re.compile(
    r"^(?P<lead>\s*-\s+)(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)"
    r"(?P<rest>.*)$"
)


def render_binder_environment(pins: dict[str, str]) -> str:
    """Return the text of binder/environment.yml for these pins."""
    lines: list[str] = []
    for name, version in pins.items():
        if name == "torch":
            # The CPU index labels its Linux wheels +cpu; an exact pin with
            # the label cannot fall back to the multi-GB CUDA wheel on PyPI.
            lines.insert(0, f"      - torch=={version.split('+', 1)[0]}+cpu")
        else:
            lines.append(f"      - {name}=={version}")
    return BINDER_HEADER + "\n".join(lines) + "\n"


def update_pinned_lines(text: str, pins: dict[str, str]) -> str:
    """Set the version of every ``- name==version`` line to the pinned one.

    Lines naming a package that is not pinned are left alone; the version
    test reports them.
    """
    out = []
    for line in text.splitlines():
        match = _PIN_LINE.match(line)
        if match and canonical_name(match["name"]) in pins:
            # Cross-platform file: a bare version, which the CPU index's
            # +cpu wheels also satisfy (PEP 440 ignores the local label).
            version = pins[canonical_name(match["name"])].split("+", 1)[0]
            line = f"{match['lead']}{match['name']}=={version}{match['rest']}"
        out.append(line)
    return "\n".join(out) + "\n"


def header_comment(text: str) -> str:
    """Return the leading ``#`` lines of a file, each ending in a newline."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line + "\n")
    return "".join(lines)


def render_constraints(header: str, freeze: str) -> str:
    """Return constraints.txt: ``header``, then the freeze without local labels.

    Raises
    ------
    ValueError
        If the freeze holds something other than ``name==version`` lines
        (a package installed from a path or URL cannot be pinned).
    """
    parse_pins(freeze, source="pip freeze")
    body = [re.sub(r"\+[A-Za-z0-9.]+$", "", line) for line in freeze.splitlines()]
    return header + "\n".join(line for line in body if line.strip()) + "\n"


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it already holds exactly that.

    An untouched constraints.txt keeps its timestamp, so make does not
    reinstall .venv for nothing.
    """
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def main(argv: list[str]) -> int:
    """Update constraints.txt from a freeze if given, then both environment files."""
    constraints = REPO / "constraints.txt"
    if argv:
        freeze_file = Path(argv[0])
        text = render_constraints(
            header_comment(constraints.read_text()), freeze_file.read_text()
        )
        write_if_changed(constraints, text)
        freeze_file.unlink()
    pins = read_pins(constraints)

    binder = REPO / "binder" / "environment.yml"
    write_if_changed(binder, render_binder_environment(pins))

    conda = REPO / "environment.yml"
    write_if_changed(conda, update_pinned_lines(conda.read_text(), pins))

    print(
        f"{len(pins)} pins: constraints.txt, environment.yml and "
        f"binder/environment.yml are in step; review them with git diff."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
