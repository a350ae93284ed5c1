"""Check that the running Python has the versions the course was tested with.

The start page calls :func:`check_environment` so that a student learns in
the first minute, not in lesson 4, that their environment differs from the
pinned set in ``constraints.txt``. The same parsing functions are used by
``tests/test_versions.py`` to keep ``constraints.txt``, ``pyproject.toml``,
``environment.yml`` and ``binder/environment.yml`` in agreement.

Run it from a shell too::

    python -m softsample_helpers.setup_check

which exits with status 1 when something differs.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

#: Where the pinned set lives. The package is installed editable from a
#: clone of the course, so the file sits one folder above this one.
CONSTRAINTS_PATH = Path(__file__).resolve().parents[1] / "constraints.txt"

#: What decides what the lessons show: the dependencies and the ``lab``
#: extra of pyproject.toml, plus ``jupyterlab_widgets``, without which
#: sliders show as text. Pillow and cycler are pinned but left out, since
#: their version changes no output. tests/test_versions.py keeps this list
#: in step with pyproject.toml.
CHECKED_PACKAGES: tuple[str, ...] = (
    "torch",
    "numpy",
    "scipy",
    "matplotlib",
    "seaborn",
    "ipywidgets",
    "jupyterlab_widgets",
    "jupyterlab",
    "ipykernel",
    "voila",
    "nbconvert",
)

_PIN_LINE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)$")

_FIX_ADVICE = (
    "To fix it, from the course folder run `make lab` (it reinstalls the\n"
    "pinned set), or in a conda or Binder environment run\n"
    "`pip install -c constraints.txt -e .` and restart the kernel."
)


def canonical_name(name: str) -> str:
    """Return the normalised form of a package name (PEP 503).

    ``Jinja2``, ``jupyterlab_widgets`` and ``jupyterlab-widgets`` become
    ``jinja2``, ``jupyterlab-widgets`` and ``jupyterlab-widgets``, so names
    written differently in different files compare equal.
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def public_version(version: str) -> str:
    """Drop a local version label: ``"2.13.0+cpu"`` becomes ``"2.13.0"``.

    PyTorch's CPU wheels carry the label ``+cpu``; it names the build, not a
    different release, so it does not count as a difference.
    """
    return version.split("+", 1)[0]


def versions_match(pinned: str, installed: str) -> bool:
    """Tell whether an installed version satisfies an exact pin.

    Local labels are ignored on both sides (``2.13.0+cpu`` matches the pin
    ``2.13.0``); everything else must be equal.
    """
    return public_version(pinned) == public_version(installed)


def parse_pins(text: str, source: str = "constraints.txt") -> dict[str, str]:
    """Read exact pins (``name==version`` lines) into a dict.

    Parameters
    ----------
    text : str
        The file's content. Blank lines and ``#`` comments are skipped.
    source : str
        The file's name, used in error messages.

    Returns
    -------
    dict[str, str]
        Canonical package name (see :func:`canonical_name`) to version.

    Raises
    ------
    ValueError
        If a line is not an exact pin, or a package is pinned twice.
    """
    pins: dict[str, str] = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN_LINE.match(line)
        if match is None:
            raise ValueError(
                f"{source}, line {number}: {raw_line.strip()!r} is not an exact "
                f"pin; write it as name==version (regenerate with `make pins`)"
            )
        name = canonical_name(match["name"])
        if name in pins:
            raise ValueError(
                f"{source}, line {number}: {match['name']} is pinned twice; "
                f"keep one line per package"
            )
        pins[name] = match["version"]
    return pins


def read_pins(path: Path = CONSTRAINTS_PATH) -> dict[str, str]:
    """Read the pinned set from ``path`` (see :func:`parse_pins`)."""
    return parse_pins(path.read_text(encoding="utf-8"), source=path.name)


def find_constraints() -> Path | None:
    """Return the course's constraints.txt, or ``None`` if there is none.

    First next to the package (an editable install from a clone, as with
    ``make lab``, conda and Binder), then in the kernel's working folder and
    the one above it: on a JupyterHub the package may be installed from a
    wheel while nbgitpuller puts the course, constraints.txt included, in
    the student's home, and a lesson's kernel runs in ``notebooks/``.
    """
    working = Path.cwd()
    for candidate in (
        CONSTRAINTS_PATH,
        working / "constraints.txt",
        working.parent / "constraints.txt",
    ):
        if candidate.is_file():
            return candidate
    return None


def installed_version(name: str) -> str | None:
    """Return the installed version of distribution ``name``, or ``None``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class PackageStatus:
    """One row of the environment check.

    Attributes
    ----------
    name : str
        The package's name as it is written in ``CHECKED_PACKAGES``.
    pinned : str or None
        Its version in constraints.txt, ``None`` when it is not pinned there.
    installed : str or None
        Its installed version, ``None`` when it is not installed.
    """

    name: str
    pinned: str | None
    installed: str | None

    @property
    def ok(self) -> bool:
        """Whether the installed version satisfies the pin."""
        if self.pinned is None or self.installed is None:
            return False
        return versions_match(self.pinned, self.installed)

    @property
    def status(self) -> str:
        """A one-word verdict for the table."""
        if self.installed is None:
            return "missing"
        if self.pinned is None:
            return "not pinned"
        return "ok" if self.ok else "mismatch"


@dataclass(frozen=True)
class EnvironmentCheck:
    """The result of :func:`check_environment`.

    Attributes
    ----------
    packages : tuple[PackageStatus, ...]
        One entry per checked package, in the order they were checked.
    constraints_found : bool
        Whether constraints.txt could be read at all.
    """

    packages: tuple[PackageStatus, ...]
    constraints_found: bool

    @property
    def ok(self) -> bool:
        """True when constraints.txt was found and every package matches."""
        return self.constraints_found and all(row.ok for row in self.packages)

    @property
    def mismatches(self) -> tuple[PackageStatus, ...]:
        """The packages that are missing, unpinned or at another version."""
        return tuple(row for row in self.packages if not row.ok)

    def report(self) -> str:
        """The text :func:`check_environment` prints: a table and a verdict."""
        if not self.constraints_found:
            return (
                "constraints.txt was not found, so there is nothing to compare "
                "with.\nThis check works in a clone of the course: run it from "
                "the clone's\nnotebooks folder, or install the clone with "
                "`pip install -e .` (which\n`make lab` does for you)."
            )
        header = ("package", "pinned", "installed", "status")
        rows = [header] + [
            (row.name, row.pinned or "-", row.installed or "-", row.status)
            for row in self.packages
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        lines = [
            f"{name:<{widths[0]}}  {pinned:<{widths[1]}}  {installed:<{widths[2]}}  "
            f"{status}"
            for name, pinned, installed, status in rows
        ]
        lines.append("")
        lines.append(self._verdict())
        return "\n".join(lines)

    def _verdict(self) -> str:
        """Say whether all is well and, if not, what to do."""
        if self.ok:
            return (
                f"All {len(self.packages)} packages match the course's pinned set "
                f"(constraints.txt)."
            )
        names = ", ".join(row.name for row in self.mismatches)
        count = len(self.mismatches)
        noun = "package differs" if count == 1 else "packages differ"
        lines = [
            f"{count} {noun} from the pinned set: {names}.",
            "The lessons may print other numbers than the ones stored, or fail.",
        ]
        if any(row.name == "jupyterlab_widgets" for row in self.mismatches):
            lines.append("Without a matching jupyterlab_widgets, sliders show as text.")
        lines.append(_FIX_ADVICE)
        return "\n".join(lines)

    def __repr__(self) -> str:
        # Short and free of paths, so a notebook cell that ends with the
        # call stores the same output on every machine with the pinned set.
        return (
            f"EnvironmentCheck(ok={self.ok}, checked={len(self.packages)}, "
            f"mismatches={len(self.mismatches)})"
        )


def check_environment(
    constraints_path: Path | str | None = None,
    *,
    packages: tuple[str, ...] = CHECKED_PACKAGES,
    show: bool = True,
) -> EnvironmentCheck:
    """Compare installed versions with the pinned set and print a table.

    Parameters
    ----------
    constraints_path : Path or str, optional
        The pinned set to compare with; by default the course's
        ``constraints.txt`` (see :func:`find_constraints`).
    packages : tuple[str, ...]
        Which installed packages to check; by default the ones the lessons
        rely on (:data:`CHECKED_PACKAGES`).
    show : bool
        Print the table and the verdict (default). With ``False`` nothing is
        printed and only the result is returned.

    Returns
    -------
    EnvironmentCheck
        Every package's pinned and installed version; ``.ok`` is True when
        all of them match.
    """
    path = find_constraints() if constraints_path is None else Path(constraints_path)
    if isinstance(packages, str):
        raise TypeError(
            f"packages must be a tuple of package names, got the string "
            f"{packages!r}; write ({packages!r},)"
        )

    if path is not None and path.is_file():
        pins = read_pins(path)
        found = True
    else:
        pins = {}
        found = False
    result = EnvironmentCheck(
        packages=tuple(
            PackageStatus(
                name=name,
                pinned=pins.get(canonical_name(name)),
                installed=installed_version(name),
            )
            for name in packages
        ),
        constraints_found=found,
    )
    if show:
        print(result.report())
    return result


def main() -> int:
    """Command-line entry point: print the check, return 1 on a mismatch."""
    return 0 if check_environment().ok else 1


if __name__ == "__main__":
    sys.exit(main())
