"""The start page's environment check: parsing pins, matching, reporting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from softsample_helpers import setup_check
from softsample_helpers.setup_check import (
    CHECKED_PACKAGES,
    CONSTRAINTS_PATH,
    EnvironmentCheck,
    PackageStatus,
    canonical_name,
    check_environment,
    find_constraints,
    installed_version,
    parse_pins,
    versions_match,
)

REPO = Path(__file__).resolve().parents[1]


def test_constraints_path_is_the_repositorys_file() -> None:
    assert CONSTRAINTS_PATH == REPO / "constraints.txt"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Jinja2", "jinja2"),
        ("jupyterlab_widgets", "jupyterlab-widgets"),
        ("ruamel.yaml", "ruamel-yaml"),
        ("typing__Extensions", "typing-extensions"),
    ],
)
def test_canonical_name_follows_pep_503(name: str, expected: str) -> None:
    assert canonical_name(name) == expected


@pytest.mark.parametrize(
    ("pinned", "installed", "expected"),
    [
        ("2.13.0", "2.13.0", True),
        ("2.13.0", "2.13.0+cpu", True),
        ("2.13.0+cpu", "2.13.0", True),
        ("2.13.0", "2.13.1", False),
        ("2.13.0", "2.13.0rc1", False),
        ("1.26.4", "2.4.6", False),
    ],
)
def test_versions_match_ignores_only_the_local_label(
    pinned: str, installed: str, expected: bool
) -> None:
    assert versions_match(pinned, installed) is expected


def test_parse_pins_reads_names_and_versions_and_skips_comments() -> None:
    text = "# header\n\nJinja2==3.1.6\ntorch==2.13.0  # CPU build\n"
    assert parse_pins(text) == {"jinja2": "3.1.6", "torch": "2.13.0"}


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("numpy>=2", "not an exact pin"),
        ("torch @ file:///wheels/torch.whl", "not an exact pin"),
        ("numpy==2.4.6\nNumPy==2.4.5", "pinned twice"),
    ],
)
def test_parse_pins_rejects_what_is_not_one_exact_pin(line: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as error:
        parse_pins(line, source="demo.txt")
    assert "demo.txt, line" in str(error.value)


def test_package_status_verdicts() -> None:
    assert PackageStatus("torch", "2.13.0", "2.13.0+cpu").status == "ok"
    assert PackageStatus("numpy", "2.4.6", "1.26.4").status == "mismatch"
    assert PackageStatus("seaborn", "0.13.2", None).status == "missing"
    assert PackageStatus("scipy", None, "1.17.1").status == "not pinned"
    assert not PackageStatus("scipy", None, "1.17.1").ok


def test_the_pinned_environment_passes(capsys: pytest.CaptureFixture[str]) -> None:
    result = check_environment()

    assert result.ok, result.report()
    assert [row.name for row in result.packages] == list(CHECKED_PACKAGES)
    printed = capsys.readouterr().out
    assert f"All {len(CHECKED_PACKAGES)} packages match" in printed
    for name in CHECKED_PACKAGES:
        assert name in printed


def test_output_is_free_of_paths_so_a_stored_notebook_output_is_stable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = check_environment()
    printed = capsys.readouterr().out

    for unstable in (str(REPO), sys.prefix, "/"):
        assert unstable not in printed
    assert repr(result) == (
        f"EnvironmentCheck(ok=True, checked={len(CHECKED_PACKAGES)}, mismatches=0)"
    )


def test_table_columns_line_up(capsys: pytest.CaptureFixture[str]) -> None:
    check_environment()
    table = capsys.readouterr().out.split("\n\n")[0].splitlines()

    status_column = table[0].index("status")
    assert all(len(line) > status_column for line in table)
    assert all(line[status_column - 2 : status_column] == "  " for line in table)


def test_a_drifted_pin_is_reported_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    numpy_version = installed_version("numpy")
    assert numpy_version is not None
    drifted = tmp_path / "constraints.txt"
    drifted.write_text(
        f"numpy==0.0.1\ntorch=={installed_version('torch')}\n", encoding="utf-8"
    )

    result = check_environment(drifted, packages=("numpy", "torch"))

    assert not result.ok
    assert [row.name for row in result.mismatches] == ["numpy"]
    printed = capsys.readouterr().out
    numpy_row = next(line for line in printed.splitlines() if line.startswith("numpy"))
    assert numpy_row.split() == ["numpy", "0.0.1", numpy_version, "mismatch"]
    assert "1 package differs from the pinned set: numpy." in printed
    assert "make lab" in printed
    assert "pip install -c constraints.txt -e ." in printed


def test_a_missing_package_and_an_unpinned_one_are_mismatches(tmp_path: Path) -> None:
    pins = tmp_path / "constraints.txt"
    pins.write_text("not-a-real-package-softsample==1.0\n", encoding="utf-8")

    result = check_environment(
        pins, packages=("not-a-real-package-softsample", "numpy"), show=False
    )

    assert [row.status for row in result.packages] == ["missing", "not pinned"]
    assert "2 packages differ" in result.report()


def test_missing_widget_extension_explains_text_sliders(tmp_path: Path) -> None:
    pins = tmp_path / "constraints.txt"
    pins.write_text("jupyterlab_widgets==0.0.1\n", encoding="utf-8")

    result = check_environment(pins, packages=("jupyterlab_widgets",), show=False)

    assert "sliders show as text" in result.report()


def test_missing_constraints_file_is_said_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = check_environment(tmp_path / "nowhere.txt")

    assert isinstance(result, EnvironmentCheck)
    assert not result.ok
    assert not result.constraints_found
    assert "constraints.txt was not found" in capsys.readouterr().out


def test_show_false_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    check_environment(show=False)
    assert capsys.readouterr().out == ""


def test_a_string_of_packages_is_refused() -> None:
    with pytest.raises(TypeError, match="packages must be a tuple"):
        check_environment(packages="torch")  # type: ignore[arg-type]


def test_command_line_exit_status() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "softsample_helpers.setup_check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stderr == ""


def test_constraints_are_found_from_a_lesson_folder_when_the_package_is_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A JupyterHub: the package installed from a wheel, the course pulled
    # into the home folder, the kernel running in its notebooks folder.
    course = tmp_path / "softsample"
    (course / "notebooks").mkdir(parents=True)
    (course / "constraints.txt").write_text(
        f"numpy=={installed_version('numpy')}\n", encoding="utf-8"
    )
    monkeypatch.setattr(setup_check, "CONSTRAINTS_PATH", tmp_path / "site" / "x.txt")
    monkeypatch.chdir(course / "notebooks")

    assert find_constraints() == course / "constraints.txt"
    assert check_environment(packages=("numpy",), show=False).ok


def test_no_constraints_anywhere_gives_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(setup_check, "CONSTRAINTS_PATH", tmp_path / "site" / "x.txt")
    monkeypatch.chdir(tmp_path)

    assert find_constraints() is None
    assert not check_environment(show=False).constraints_found
