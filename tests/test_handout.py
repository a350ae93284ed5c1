"""The static handout (make html) and the README's lesson table.

The handout is built twice: from a small synthetic course whose every
figure is known, so each check can fail, and from the real lessons, so the
course a teacher hands out is complete.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from PIL import Image

from softsample_helpers import handout
from softsample_helpers.handout import (
    BINDER_REPOSITORY,
    WIDGET_STATE,
    WIDGET_VIEW,
    binder_url,
    build_handout,
    find_lessons,
    lesson_minutes,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
README = REPO / "README.md"
LESSON_PATHS = sorted(NOTEBOOKS.glob(handout.LESSON_GLOB))


def png_base64(colour: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def img_count(page: str) -> int:
    return len(re.findall(r"<img\b", page))


# ---------------------------------------------------------------------------
# A synthetic course


def widget_output(model_id: str, **data: Any) -> nbformat.NotebookNode:
    bundle = {
        WIDGET_VIEW: {"model_id": model_id, "version_major": 2},
        "text/plain": "VBox()",
    }
    bundle.update(data)
    return nbformat.v4.new_output("execute_result", data=bundle, execution_count=1)


def model(
    name: str, state: dict[str, Any], buffers: list[Any] | None = None
) -> dict[str, Any]:
    return {
        "model_name": name,
        "model_module": "@jupyter-widgets/controls",
        "model_module_version": "2.0.0",
        "state": state,
        "buffers": buffers or [],
    }


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """Two lessons and a notebook that is not a lesson.

    Lesson 01 holds four figures: a plain PNG output, an explorer that
    carries its own PNG, an Output widget and an Image widget known only
    from the saved widget state (nested in a VBox). It also holds a slider
    with nothing to show, which must become a note, and a slider with an
    HTML readout, which must become the readout and a note.
    """
    folder = tmp_path / "notebooks"
    folder.mkdir()

    intro = nbformat.v4.new_notebook()
    intro.cells = [
        nbformat.v4.new_markdown_cell("# Start <here>\n\nAbout **15 minutes**."),
        nbformat.v4.new_code_cell(
            "print('hi')",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="hi\n")],
        ),
    ]
    nbformat.write(intro, folder / "00_intro.ipynb")

    lesson = nbformat.v4.new_notebook()
    lesson.cells = [
        nbformat.v4.new_markdown_cell("# *Tiny* lesson\n\nTime: 40–50 minutes."),
        nbformat.v4.new_markdown_cell("Later text that mentions 5 minutes."),
        nbformat.v4.new_code_cell(
            "plot()",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"image/png": png_base64("red")}
                )
            ],
        ),
        nbformat.v4.new_code_cell(
            "explorer()",
            outputs=[widget_output("explorer", **{"image/png": png_base64("green")})],
        ),
        nbformat.v4.new_code_cell("box", outputs=[widget_output("box")]),
        nbformat.v4.new_code_cell("slider", outputs=[widget_output("slider")]),
        nbformat.v4.new_code_cell("readout", outputs=[widget_output("readout")]),
    ]
    lesson.metadata["widgets"] = {
        WIDGET_STATE: {
            "version_major": 2,
            "version_minor": 0,
            "state": {
                "box": model(
                    "VBoxModel", {"children": ["IPY_MODEL_out", "IPY_MODEL_img"]}
                ),
                "out": model(
                    "OutputModel",
                    {
                        "outputs": [
                            {
                                "output_type": "display_data",
                                "metadata": {},
                                "data": {
                                    "image/png": png_base64("blue"),
                                    "text/plain": "<Figure>",
                                },
                            }
                        ]
                    },
                ),
                "img": model(
                    "ImageModel",
                    {"format": "png"},
                    [
                        {
                            "path": ["value"],
                            "encoding": "base64",
                            "data": png_base64("white"),
                        }
                    ],
                ),
                "slider": model("IntSliderModel", {"value": 3}),
                "readout": model(
                    "VBoxModel", {"children": ["IPY_MODEL_slider", "IPY_MODEL_html"]}
                ),
                "html": model("HTMLModel", {"value": "<pre>p = 0.25</pre>"}),
            },
        }
    }
    nbformat.write(lesson, folder / "01_tiny.ipynb")

    nbformat.write(nbformat.v4.new_notebook(), folder / "scratch.ipynb")
    return folder


@pytest.fixture
def built(course: Path, tmp_path: Path) -> Path:
    output = tmp_path / "html"
    pages = build_handout(course, output)
    assert [page.name for page in pages] == [
        "00_intro.html",
        "01_tiny.html",
        "index.html",
    ]
    return output


def test_only_lessons_become_pages(built: Path) -> None:
    assert sorted(path.name for path in built.iterdir()) == [
        "00_intro.html",
        "01_tiny.html",
        "index.html",
    ]


def test_index_links_every_lesson_with_title_time_and_binder(built: Path) -> None:
    index = (built / "index.html").read_text()
    assert '<a href="00_intro.html">Start &lt;here&gt;</a>' in index
    assert '<a href="01_tiny.html">Tiny lesson</a>' in index
    assert "<td>15 min</td>" in index
    assert "<td>40-50 min</td>" in index
    assert binder_url("01_tiny.ipynb") in index


def test_every_figure_reaches_the_page_embedded(built: Path) -> None:
    page = (built / "01_tiny.html").read_text()
    assert img_count(page) == 4
    for colour in ("red", "green", "blue", "white"):
        assert f"data:image/png;base64,{png_base64(colour)}" in page


def test_a_widget_without_a_picture_becomes_a_note_with_a_binder_link(
    built: Path,
) -> None:
    page = (built / "01_tiny.html").read_text()
    assert page.count('handout-widget-note">') == 2
    assert binder_url("01_tiny.ipynb") in page


def test_a_widget_readout_is_shown_as_it_was_saved(built: Path) -> None:
    page = (built / "01_tiny.html").read_text()
    assert "<pre>p = 0.25</pre>" in page
    assert page.index("<pre>p = 0.25</pre>") < page.rindex('handout-widget-note">')


def test_pages_need_no_widget_library(built: Path) -> None:
    for name in ("00_intro.html", "01_tiny.html"):
        page = (built / name).read_text()
        assert WIDGET_VIEW not in page
        assert WIDGET_STATE not in page
        assert "html-manager" not in page


def test_pages_link_to_each_other(built: Path) -> None:
    intro = (built / "00_intro.html").read_text()
    tiny = (built / "01_tiny.html").read_text()
    assert (
        'href="index.html"' in intro
        and 'href="01_tiny.html">Tiny lesson &rarr;' in intro
    )
    assert 'href="00_intro.html">&larr; Start &lt;here&gt;' in tiny
    assert "&rarr;" not in tiny


def test_pages_hold_the_stored_outputs(built: Path) -> None:
    assert "hi\n" in (built / "00_intro.html").read_text()


def test_source_notebooks_are_left_untouched(course: Path, built: Path) -> None:
    notebook = nbformat.read(course / "01_tiny.ipynb", as_version=4)
    assert WIDGET_STATE in notebook.metadata["widgets"]
    assert WIDGET_VIEW in notebook.cells[3].outputs[0]["data"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Takes about 45 minutes.", "45"),
        ("**Time:** 40-50 min", "40-50"),
        ("Time: 40 to 50 minutes", "40-50"),
        ("No time given; 3 examples.", None),
    ],
)
def test_lesson_minutes_reads_the_opening_cell(text: str, expected: str | None) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(text),
        nbformat.v4.new_markdown_cell("This takes 99 minutes."),
    ]
    assert lesson_minutes(notebook) == expected


def test_an_empty_or_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no lessons"):
        build_handout(tmp_path, tmp_path / "html")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_handout(tmp_path / "missing", tmp_path / "html")


def test_command_line(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert handout.main([str(course), str(tmp_path / "cli")]) == 0
    assert "Wrote 2 lesson pages" in capsys.readouterr().out
    assert (tmp_path / "cli" / "index.html").is_file()


# ---------------------------------------------------------------------------
# The real course


def expected_figures(path: Path) -> tuple[int, int]:
    """Image outputs a lesson stores outside widgets, and its widget outputs."""
    notebook = nbformat.read(path, as_version=4)
    images = widgets = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                widgets += 1
            elif any(key in data for key in handout.STATIC_TYPES):
                images += 1
    return images, widgets


@pytest.fixture(scope="module")
def real_handout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not LESSON_PATHS:
        pytest.skip("no lesson notebooks in notebooks/ yet")
    output = tmp_path_factory.mktemp("handout")
    build_handout(NOTEBOOKS, output)
    return output


@pytest.mark.parametrize(
    "lesson", LESSON_PATHS, ids=[path.stem for path in LESSON_PATHS]
)
def test_every_lesson_page_is_built_with_its_figures(
    real_handout: Path, lesson: Path
) -> None:
    page_path = real_handout / lesson.with_suffix(".html").name
    assert page_path.is_file(), f"{page_path.name} was not written"
    page = page_path.read_text(encoding="utf-8")
    index = (real_handout / "index.html").read_text(encoding="utf-8")

    assert f'href="{page_path.name}"' in index, (
        f"index.html does not link {page_path.name}"
    )
    images, widgets = expected_figures(lesson)
    assert img_count(page) >= images, f"{page_path.name}: a stored figure is missing"
    if images or widgets:
        assert img_count(page) > 0 or "handout-widget-note" in page
    if images:
        assert img_count(page) > 0, f"{page_path.name}: no figure on the page"
    assert WIDGET_VIEW not in page


# ---------------------------------------------------------------------------
# README: Binder links, the lesson table, screenshots


def readme() -> str:
    return README.read_text(encoding="utf-8")


def link_targets(text: str) -> dict[str, str]:
    """Reference-style link definitions: ``[label]: url``."""
    return dict(re.findall(r"^\[([^\]]+)\]:\s*(\S+)", text, flags=re.MULTILINE))


def test_every_binder_link_uses_the_one_repository_slug() -> None:
    links = re.findall(r"https://mybinder\.org/v2/gh/[^\s)\]>\"]+", readme())
    assert links, "README.md has no Binder link"
    wrong = [
        link
        for link in links
        if not link.startswith(f"https://mybinder.org/v2/gh/{BINDER_REPOSITORY}?")
    ]
    assert not wrong, (
        f"README.md: these Binder links do not use {BINDER_REPOSITORY} "
        f"(handout.BINDER_REPOSITORY): {wrong}"
    )


def test_readme_has_a_binder_badge_for_the_course() -> None:
    assert "https://mybinder.org/badge_logo.svg" in readme()
    assert binder_url("00_start_here.ipynb") in link_targets(readme()).values()


@pytest.mark.parametrize(
    "lesson",
    find_lessons(NOTEBOOKS) if NOTEBOOKS.is_dir() else [],
    ids=lambda lesson: lesson.path.stem,
)
def test_readme_lists_each_lesson_with_its_time_and_binder_link(
    lesson: handout.Lesson,
) -> None:
    text = readme()
    targets = link_targets(text)
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("|") and f"notebooks/{lesson.path.name}" in line
    ]
    assert len(rows) == 1, f"README.md: no table row links notebooks/{lesson.path.name}"
    row = rows[0]

    references = re.findall(r"\]\[([^\]]+)\]", row)
    urls = {targets.get(reference) for reference in references}
    urls |= set(re.findall(r"\((https://mybinder\.org[^)]+)\)", row))
    assert lesson.binder_url in urls, (
        f"README.md: the {lesson.path.stem} row lacks its Binder link"
    )

    time = re.search(r"\|\s*(\d+(?:[-–]\d+)?)\s*min\s*\|", row)
    assert time, f"README.md: the {lesson.path.stem} row gives no time in minutes"
    assert lesson.minutes is not None, f"{lesson.path.name}: the header states no time"
    assert time.group(1).replace("–", "-") == lesson.minutes, (
        f"README.md says {time.group(1)} min for {lesson.path.stem}, the notebook says "
        f"{lesson.minutes}"
    )


def test_readme_sections_come_in_the_order_a_newcomer_needs() -> None:
    headings = [
        line.lstrip("#").strip().lower()
        for line in readme().splitlines()
        if line.startswith("## ")
    ]
    wanted = [
        "lessons",
        "quick start",
        "conda",
        "teachers",
        "troubleshooting",
        "contribut",
    ]
    positions = []
    for word in wanted:
        matches = [number for number, heading in enumerate(headings) if word in heading]
        assert matches, f"README.md: no section heading mentions {word!r}"
        positions.append(matches[0])
    assert positions == sorted(positions), (
        f"README.md: sections out of order: {headings}"
    )


def test_quick_start_is_the_two_make_commands() -> None:
    quick = readme().lower().split("## quick start", 1)[1].split("\n## ", 1)[0]
    assert "make lab" in quick and "make test" in quick


def test_readme_screenshots_exist_and_are_small() -> None:
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+\.png)\)", readme())
    assert len(images) >= 2, "README.md should show an explorer and a histogram"
    for relative in images:
        path = REPO / relative
        assert path.is_file(), f"README.md shows {relative}, which does not exist"
        assert path.stat().st_size < 250_000, f"{relative} is over 250 KB"


@pytest.mark.parametrize(
    "lesson",
    [
        lesson
        for lesson in (find_lessons(NOTEBOOKS) if NOTEBOOKS.is_dir() else [])
        if lesson.path.name != "00_start_here.ipynb"  # the map does not list itself
    ],
    ids=lambda lesson: lesson.path.stem,
)
def test_start_page_map_gives_each_lesson_its_own_time(lesson: handout.Lesson) -> None:
    start = nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4)
    text = "\n".join(c.source for c in start.cells if c.cell_type == "markdown")
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("|") and f"({lesson.path.name})" in line
    ]
    assert len(rows) == 1, f"00_start_here.ipynb: no map row links {lesson.path.name}"
    time = re.search(r"\|\s*(\d+(?:[-–]\d+)?)\s*min\s*\|", rows[0])
    assert time, f"00_start_here.ipynb: the {lesson.path.stem} row gives no time"
    assert time.group(1).replace("–", "-") == lesson.minutes, (
        f"00_start_here.ipynb says {time.group(1)} min for {lesson.path.stem}, "
        f"the notebook says {lesson.minutes}"
    )
