"""One truth for versions: every version source agrees with constraints.txt.

constraints.txt is the pinned set. pyproject.toml's ranges must admit it,
environment.yml and binder/environment.yml must repeat it, the installed
environment must match it, and the start page's check must read it. Each
test collects every disagreement and fails with one line per file and
package; `make pins` fixes most of them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from softsample_helpers import setup_check
from softsample_helpers.setup_check import canonical_name, parse_pins, read_pins

REPO = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
FIX = "run `make pins`, or edit it to match constraints.txt"

# Installed by the venv itself or by the course, never pinned.
UNPINNED_DISTRIBUTIONS = {"pip", "setuptools", "wheel", "softsample-helpers"}


# --------------------------------------------------------------------------
# Reading each source


def constraints() -> dict[str, str]:
    return read_pins(REPO / "constraints.txt")


def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def pyproject_requirements(
    groups: Iterable[str] = ("lab", "test"),
) -> list[Requirement]:
    """The dependencies and the named extras of pyproject.toml."""
    project = pyproject()["project"]
    lines = list(project["dependencies"])
    for group in groups:
        lines += project["optional-dependencies"][group]
    return [Requirement(line) for line in lines]


def conda_file(relative: str) -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / relative).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{relative} is not a YAML mapping"
    return loaded


def conda_python(environment: Mapping[str, Any]) -> str | None:
    """The ``python=X.Y`` spec of a conda environment, if any."""
    for item in environment.get("dependencies", []):
        if isinstance(item, str) and re.fullmatch(r"python\s*[=<>].*", item):
            return item.split("=", 1)[1].lstrip("=").strip()
    return None


def conda_pip_lines(environment: Mapping[str, Any]) -> list[str]:
    """The lines of a conda environment's ``pip:`` section."""
    for item in environment.get("dependencies", []):
        if isinstance(item, dict) and "pip" in item:
            return [str(line) for line in item["pip"]]
    return []


def pip_pins(lines: Iterable[str], source: str) -> dict[str, str]:
    """The ``name==version`` lines of a pip section; options are skipped."""
    return parse_pins(
        "\n".join(line for line in lines if not line.startswith("-")), source
    )


# --------------------------------------------------------------------------
# Comparing


def drift(
    source: str,
    versions: Mapping[str, str],
    pins: Mapping[str, str],
    *,
    require_all: bool = False,
    allow_label: str | None = None,
) -> list[str]:
    """Describe every way ``versions`` (read from ``source``) disagrees with ``pins``.

    Parameters
    ----------
    source : str
        The file (or place) the versions were read from, named in messages.
    versions, pins : Mapping[str, str]
        Canonical package name to version.
    require_all : bool
        Also report pins that ``versions`` lacks.
    allow_label : str, optional
        A local version label accepted in ``source`` (``"cpu"`` for torch on
        Binder and in the venv); by default any label is reported.

    Returns
    -------
    list[str]
        One message per package, naming the file and the package; empty
        when they agree.
    """
    problems = []
    for name, version in sorted(versions.items()):
        pinned = pins.get(name)
        if pinned is None:
            problems.append(f"{source}: {name}=={version} is not in constraints.txt")
            continue
        public, _, local = version.partition("+")
        if public != pinned.partition("+")[0]:
            problems.append(
                f"{source}: {name} is {version}, constraints.txt pins {pinned}; {FIX}"
            )
        elif local and local != allow_label:
            problems.append(
                f"{source}: {name}=={version} carries the local label +{local}, "
                f"which wheels for other platforms lack; write {name}=={public}"
            )
    if require_all:
        for name in sorted(set(pins) - set(versions)):
            problems.append(
                f"{source}: {name} is missing (constraints.txt pins {pins[name]}); "
                + FIX
            )
    return problems


def range_drift(
    source: str, requirements: Iterable[Requirement], pins: Mapping[str, str]
) -> list[str]:
    """Describe every requirement whose range excludes its pin, or has no pin."""
    problems = []
    for requirement in requirements:
        name = canonical_name(requirement.name)
        pinned = pins.get(name)
        if pinned is None:
            problems.append(
                f"{source}: {requirement.name} is required but not pinned in "
                f"constraints.txt; install it with -c constraints.txt and run make pins"
            )
        elif not requirement.specifier.contains(Version(pinned), prereleases=True):
            problems.append(
                f"{source}: {requirement.name}{requirement.specifier} excludes the "
                f"pinned {pinned}; widen the range or change the pin"
            )
    return problems


def fail_on(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# The comparison functions themselves can fail


def test_drift_names_file_and_package_for_each_kind_of_difference() -> None:
    pins = {"numpy": "2.4.6", "torch": "2.13.0", "scipy": "1.17.1"}
    found = {"numpy": "2.4.5", "torch": "2.13.0+cpu", "pandas": "3.1.1"}

    problems = drift("environment.yml", found, pins, require_all=True)

    assert problems == [
        "environment.yml: numpy is 2.4.5, constraints.txt pins 2.4.6; " + FIX,
        "environment.yml: pandas==3.1.1 is not in constraints.txt",
        "environment.yml: torch==2.13.0+cpu carries the local label +cpu, which "
        "wheels for other platforms lack; write torch==2.13.0",
        "environment.yml: scipy is missing (constraints.txt pins 1.17.1); " + FIX,
    ]


def test_drift_accepts_agreement_and_an_allowed_label() -> None:
    pins = {"numpy": "2.4.6", "torch": "2.13.0"}
    assert (
        drift("x", {"numpy": "2.4.6", "torch": "2.13.0"}, pins, require_all=True) == []
    )
    assert drift("x", {"torch": "2.13.0+cpu"}, pins, allow_label="cpu") == []
    assert drift("x", {"torch": "2.13.0+cu130"}, pins, allow_label="cpu") != []


def test_range_drift_reports_an_excluded_pin_and_a_missing_one() -> None:
    requirements = [Requirement("torch>=2.13,<2.14"), Requirement("numpy>=3")]
    problems = range_drift("pyproject.toml", requirements, {"torch": "2.14.0"})
    assert problems == [
        "pyproject.toml: torch<2.14,>=2.13 excludes the pinned 2.14.0; widen the "
        "range or change the pin",
        "pyproject.toml: numpy is required but not pinned in constraints.txt; "
        "install it with -c constraints.txt and run make pins",
    ]


# --------------------------------------------------------------------------
# constraints.txt and pyproject.toml


def test_constraints_holds_only_exact_pins_without_local_labels() -> None:
    pins = constraints()
    assert "torch" in pins
    labelled = [
        f"{name}=={version}" for name, version in pins.items() if "+" in version
    ]
    assert not labelled, (
        f"constraints.txt: {', '.join(labelled)} carry a local label; pins must fit "
        f"every platform's wheels (make pins strips it)"
    )


def test_constraints_keeps_its_header() -> None:
    first = (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# The pinned set"), (
        "constraints.txt lost its header comment"
    )


def test_pyproject_ranges_admit_the_pins() -> None:
    fail_on(range_drift("pyproject.toml", pyproject_requirements(), constraints()))


def test_pyproject_python_range_admits_the_binder_python() -> None:
    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    python = conda_python(conda_file("binder/environment.yml"))
    assert python is not None, "binder/environment.yml: no python=X.Y dependency"
    assert requires.contains(python), (
        f"binder/environment.yml: python={python} is outside pyproject.toml's "
        f"requires-python {requires}"
    )


def test_installed_environment_matches_the_pins() -> None:
    installed = {
        canonical_name(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
    }
    for name in UNPINNED_DISTRIBUTIONS:
        installed.pop(name, None)
    pins = constraints()
    # constraints.txt is a Linux freeze. There, anything installed by hand
    # must be pinned too, and every pin installed; elsewhere the platform's
    # own extras (appnope on macOS, pywinpty on Windows) are expected, so
    # only the versions of pinned packages are compared.
    on_linux = sys.platform.startswith("linux")
    if not on_linux:
        installed = {name: v for name, v in installed.items() if name in pins}
    # The venv's torch is the +cpu build; the label names the build only.
    fail_on(
        drift(
            "the installed environment",
            installed,
            pins,
            require_all=on_linux,
            allow_label="cpu",
        )
    )


# --------------------------------------------------------------------------
# environment.yml (conda and mamba, every platform)


def test_conda_environment_pins_agree() -> None:
    environment = conda_file("environment.yml")
    lines = conda_pip_lines(environment)
    pins = pip_pins(lines, "environment.yml")
    fail_on(drift("environment.yml", pins, constraints()))


def test_conda_environment_pins_every_direct_dependency() -> None:
    lines = conda_pip_lines(conda_file("environment.yml"))
    pinned = set(pip_pins(lines, "environment.yml"))
    direct = {canonical_name(r.name) for r in pyproject_requirements(groups=("lab",))}
    direct.add("jupyterlab-widgets")
    missing = sorted(direct - pinned)
    assert not missing, f"environment.yml: no exact pin for {', '.join(missing)}; {FIX}"


def test_conda_environment_installs_cpu_torch_and_the_package() -> None:
    environment = conda_file("environment.yml")
    lines = conda_pip_lines(environment)
    assert f"--extra-index-url {CPU_INDEX}" in lines, (
        "environment.yml: the pip section must look on PyTorch's CPU index, or "
        "Linux users download the multi-GB CUDA build"
    )
    assert any(re.fullmatch(r"-e \.(\[[\w,]+\])?", line) for line in lines), (
        "environment.yml: the pip section must install the course (-e .[lab])"
    )
    assert conda_python(environment) == conda_python(
        conda_file("binder/environment.yml")
    ), "environment.yml: python version differs from binder/environment.yml"


# --------------------------------------------------------------------------
# binder/ (what repo2docker reads)


def test_binder_environment_is_the_full_pinned_set() -> None:
    lines = conda_pip_lines(conda_file("binder/environment.yml"))
    pins = pip_pins(lines, "binder/environment.yml")
    fail_on(
        drift(
            "binder/environment.yml",
            pins,
            constraints(),
            require_all=True,
            allow_label="cpu",
        )
    )


def test_binder_torch_is_the_cpu_build_from_the_cpu_index() -> None:
    lines = conda_pip_lines(conda_file("binder/environment.yml"))
    torch = pip_pins(lines, "binder/environment.yml").get("torch", "")
    assert torch.endswith("+cpu"), (
        f"binder/environment.yml: torch must be pinned with +cpu (got {torch!r}), "
        f"or Binder installs the multi-GB CUDA build"
    )
    assert f"--extra-index-url {CPU_INDEX}" in lines, (
        f"binder/environment.yml: add --extra-index-url {CPU_INDEX} to the pip section"
    )


def test_binder_environment_references_no_repository_file() -> None:
    # repo2docker installs it before the repository is copied in.
    lines = conda_pip_lines(conda_file("binder/environment.yml"))
    local = [
        line
        for line in lines
        if re.match(r"-(e|r|c)\b|--(editable|requirement|constraint)|\.", line)
    ]
    assert not local, (
        f"binder/environment.yml: {local} refer to repository files; install the "
        f"package in binder/postBuild instead"
    )


def test_binder_holds_no_configuration_it_would_ignore() -> None:
    ignored = [
        name
        for name in ("requirements.txt", "runtime.txt")
        if (REPO / "binder" / name).exists()
    ]
    assert not ignored, (
        f"binder/: {ignored} are ignored by repo2docker when environment.yml exists"
    )


def test_binder_postbuild_fails_loudly_and_installs_the_package() -> None:
    post_build = REPO / "binder" / "postBuild"
    lines = [
        line.strip() for line in post_build.read_text(encoding="utf-8").splitlines()
    ]
    commands = [line for line in lines if line and not line.startswith("#")]

    assert lines[0].startswith("#!"), "binder/postBuild: needs a shebang line"
    assert os.access(post_build, os.X_OK), "binder/postBuild: must be executable"
    assert commands[0].startswith("set -e"), "binder/postBuild: start with set -e"
    assert any(
        re.search(r"pip install .*--no-deps .*-e \.$", line) for line in commands
    ), "binder/postBuild: install the course with pip install --no-deps -e ."
    assert "python -m softsample_helpers.setup_check" in commands, (
        "binder/postBuild: run the environment check so drift fails the build"
    )


# --------------------------------------------------------------------------
# The start page's environment check


def test_start_page_check_reads_the_pinned_set() -> None:
    assert setup_check.CONSTRAINTS_PATH == REPO / "constraints.txt"
    checked = {canonical_name(name) for name in setup_check.CHECKED_PACKAGES}
    unpinned = sorted(checked - set(constraints()))
    assert not unpinned, (
        f"softsample_helpers/setup_check.py: {unpinned} not in constraints.txt"
    )


# Direct dependencies the start page's table leaves out, and why. They are
# still pinned everywhere; a different version changes nothing a lesson
# prints, so a student need not read about them.
NOT_ON_THE_START_PAGE = {
    "pillow": "only encodes the explorers' PNG frames",
    "cycler": "only builds the course style's colour cycle",
}


def test_start_page_check_covers_every_direct_dependency() -> None:
    checked = {canonical_name(name) for name in setup_check.CHECKED_PACKAGES}
    direct = {canonical_name(r.name) for r in pyproject_requirements(groups=("lab",))}
    direct.add("jupyterlab-widgets")
    expected = direct - set(NOT_ON_THE_START_PAGE)
    assert checked == expected, (
        "softsample_helpers/setup_check.py: CHECKED_PACKAGES should be pyproject's "
        f"dependencies and lab extra plus jupyterlab_widgets; missing "
        f"{sorted(expected - checked)}, extra {sorted(checked - expected)} (or "
        f"say in NOT_ON_THE_START_PAGE why one is left out)"
    )


def test_start_page_calls_the_check() -> None:
    start_page = REPO / "notebooks" / "00_start_here.ipynb"
    if not start_page.exists():
        pytest.skip("notebooks/00_start_here.ipynb is not written yet")
    assert "check_environment(" in start_page.read_text(encoding="utf-8"), (
        "notebooks/00_start_here.ipynb: the start page should run "
        "softsample_helpers.setup_check.check_environment()"
    )


# --------------------------------------------------------------------------
# make pins (binder/sync_pins.py) writes what these tests expect


def load_sync_pins() -> Any:
    spec = importlib.util.spec_from_file_location(
        "sync_pins", REPO / "binder" / "sync_pins.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_pins_would_leave_the_environment_files_unchanged() -> None:
    sync_pins = load_sync_pins()
    pins = constraints()
    binder = (REPO / "binder" / "environment.yml").read_text(encoding="utf-8")
    conda = (REPO / "environment.yml").read_text(encoding="utf-8")

    assert sync_pins.render_binder_environment(pins) == binder, (
        "binder/environment.yml was edited by hand; run `make pins`"
    )
    assert sync_pins.update_pinned_lines(conda, pins) == conda


def test_make_pins_moves_a_changed_pin_into_both_files() -> None:
    sync_pins = load_sync_pins()
    pins = {**constraints(), "numpy": "9.9.9", "torch": "3.0.0"}
    conda = (REPO / "environment.yml").read_text(encoding="utf-8")

    updated = sync_pins.update_pinned_lines(conda, pins)
    binder = sync_pins.render_binder_environment(pins)

    assert "- numpy==9.9.9" in updated and "- torch==3.0.0\n" in updated
    assert "- numpy==9.9.9" in binder and "- torch==3.0.0+cpu\n" in binder
    assert drift(
        "environment.yml",
        pip_pins(conda_pip_lines(yaml.safe_load(updated)), "environment.yml"),
        constraints(),
    )


def test_make_pins_keeps_the_header_and_drops_local_labels() -> None:
    sync_pins = load_sync_pins()
    header = sync_pins.header_comment("# one\n# two\nnumpy==1\n# later\n")
    text = sync_pins.render_constraints(header, "numpy==2.4.6\ntorch==2.13.0+cpu\n")

    assert text == "# one\n# two\nnumpy==2.4.6\ntorch==2.13.0\n"
    with pytest.raises(ValueError, match="not an exact pin"):
        sync_pins.render_constraints(header, "torch @ file:///wheels/torch.whl\n")
