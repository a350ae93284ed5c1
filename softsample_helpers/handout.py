"""Build the static handout: every lesson as one HTML page, plus an index.

``make html`` runs::

    python -m softsample_helpers.handout notebooks build/html

which renders each ``notebooks/NN_*.ipynb`` with the outputs stored in it
(nothing is executed) into ``build/html/NN_*.html``, and writes
``build/html/index.html`` linking every lesson with its title and time. A
teacher can host the folder or hand it out as it is: figures are embedded in
the pages, so each page is a single self-contained file.

Widgets need a kernel, so a page shows each explorer as the figure it had
when the notebook was saved (the PNG an explorer adds to its output, or the
images stored in its widget state), or, when there is none, a sentence
pointing to the lesson on Binder.
"""

from __future__ import annotations

import argparse
import copy
import html
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter

#: The GitHub repository and branch Binder builds, as ``owner/repo/branch``.
#: README.md's Binder links use the same string; tests/test_handout.py fails
#: when the two differ.
BINDER_REPOSITORY = "softsample/softsample/main"

#: Lesson notebooks are named like ``01_softmax.ipynb``.
LESSON_GLOB = "[0-9][0-9]_*.ipynb"

COURSE_TITLE = "softsample: softmax and sampling in PyTorch, done right"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STATIC_TYPES = ("image/png", "image/svg+xml", "image/jpeg")

_MINUTES = re.compile(r"(\d+)\s*(?:-|–|to)?\s*(\d+)?\s*min(?:ute)?s?\b", re.IGNORECASE)

_INDEX_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid #ddd; }
"""

# Added to each lesson page, next to nbconvert's own stylesheet.
_LESSON_STYLE = """
.handout-nav { font-family: system-ui, sans-serif; display: flex; flex-wrap: wrap;
       gap: 1.5rem; padding: 0.6rem 1rem; border-bottom: 1px solid #ddd;
       background: #f6f6f6; }
.handout-widget-note { border-left: 4px solid #0072b2; padding: 0.4rem 0.8rem;
       background: #eef5fb; }
"""


@dataclass(frozen=True)
class Lesson:
    """One lesson notebook and what the index says about it.

    Attributes
    ----------
    path : Path
        The notebook file.
    title : str
        The text of its first ``#`` heading (the file name if it has none).
    minutes : str or None
        How long it takes, as the notebook's header states it (``"45"`` or
        ``"40-50"``), or ``None`` if the header names no time.
    """

    path: Path
    title: str
    minutes: str | None

    @property
    def page_name(self) -> str:
        """The lesson's HTML file name, e.g. ``01_softmax.html``."""
        return self.path.with_suffix(".html").name

    @property
    def binder_url(self) -> str:
        """A Binder link that opens this lesson in JupyterLab."""
        return binder_url(self.path.name)


def binder_url(notebook_name: str) -> str:
    """Return the Binder link that opens ``notebooks/<notebook_name>`` in JupyterLab."""
    return (
        f"https://mybinder.org/v2/gh/{BINDER_REPOSITORY}"
        f"?urlpath=lab/tree/notebooks/{notebook_name}"
    )


def find_lessons(notebooks: Path) -> list[Lesson]:
    """Read the title and stated time of every lesson in ``notebooks``, in order.

    Raises
    ------
    FileNotFoundError
        If ``notebooks`` is not a folder.
    """
    if not notebooks.is_dir():
        raise FileNotFoundError(
            f"notebooks folder {notebooks} does not exist; pass the folder that "
            f"holds the NN_name.ipynb lessons"
        )
    lessons = []
    for path in sorted(notebooks.glob(LESSON_GLOB)):
        notebook = nbformat.read(path, as_version=4)
        lessons.append(
            Lesson(
                path=path,
                title=lesson_title(notebook, path),
                minutes=lesson_minutes(notebook),
            )
        )
    return lessons


def _markdown_cells(notebook: nbformat.NotebookNode) -> Iterator[str]:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            yield cell.source


def lesson_title(notebook: nbformat.NotebookNode, path: Path) -> str:
    """Return the notebook's first level-1 heading, without markup."""
    for source in _markdown_cells(notebook):
        for line in source.splitlines():
            if line.startswith("# "):
                return re.sub(r"[*_`]", "", line[2:]).strip()
    return path.stem


def lesson_minutes(notebook: nbformat.NotebookNode) -> str | None:
    """Return the time the notebook's opening cell states, e.g. ``"45"``.

    Only the first markdown cell is read: that is where a lesson says how
    long it takes; a number of minutes later on is about something else.
    """
    for source in _markdown_cells(notebook):
        match = _MINUTES.search(source)
        if match is None:
            return None
        low, high = match.groups()
        return low if high is None else f"{low}-{high}"
    return None


# ---------------------------------------------------------------------------
# Widgets become what they showed


def _model_id(reference: object) -> str | None:
    """``"IPY_MODEL_abc"`` (how a container names a child) to ``"abc"``."""
    if isinstance(reference, str) and reference.startswith("IPY_MODEL_"):
        return reference.removeprefix("IPY_MODEL_")
    return None


def stored_widget_outputs(
    state: Mapping[str, Any], model_id: str
) -> list[dict[str, Any]]:
    """Collect what a stored widget and its children were showing.

    Parameters
    ----------
    state : Mapping[str, Any]
        The notebook's saved widget state: model id to
        ``{"model_name", "state", "buffers"}``.
    model_id : str
        The widget the output displays.

    Returns
    -------
    list[dict[str, Any]]
        Notebook outputs, in the widget tree's order: what ``Output``
        widgets hold, the picture of ``Image`` widgets (PNG or JPEG) and the
        text of ``HTML`` widgets (a readout such as an entropy or a
        p-value). Sliders and buttons leave nothing.
    """
    found: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(identifier: str) -> None:
        model = state.get(identifier)
        if identifier in seen or not isinstance(model, Mapping):
            return
        seen.add(identifier)
        name = model.get("model_name")
        fields = model.get("state", {})
        if name == "OutputModel":
            for output in fields.get("outputs", []):
                if WIDGET_VIEW not in output.get("data", {}):
                    found.append({"metadata": {}, **output})
        elif name == "ImageModel":
            image_format = str(fields.get("format", "png")).lower()
            for buffer in model.get("buffers", []):
                if buffer.get("path") == ["value"] and image_format in ("png", "jpeg"):
                    found.append(_display({f"image/{image_format}": buffer["data"]}))
        elif name in ("HTMLModel", "HTMLMathModel") and fields.get("value"):
            found.append(_display({"text/html": str(fields["value"])}))
        for child in fields.get("children", []):
            child_id = _model_id(child)
            if child_id is not None:
                visit(child_id)

    visit(model_id)
    return found


def _display(data: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _widget_note(binder_link: str) -> dict[str, Any]:
    message = (
        '<p class="handout-widget-note">An interactive widget is here in the '
        f'lesson. <a href="{html.escape(binder_link)}">Open the lesson on Binder</a> '
        "to use it.</p>"
    )
    return _display({"text/html": message})


def static_outputs(
    output: Mapping[str, Any], state: Mapping[str, Any], binder_link: str
) -> list[dict[str, Any]]:
    """Replace one widget output with what a page without a kernel can show.

    Outputs that are not widgets come back unchanged. A widget becomes its
    PNG fallback if it has one, else what its saved state shows; unless that
    includes a picture, a note linking to the lesson on Binder follows.
    """
    data = output.get("data", {})
    if WIDGET_VIEW not in data:
        return [dict(output)]
    images = {key: data[key] for key in STATIC_TYPES if key in data}
    if images:
        return [_display(images)]
    model_id = data[WIDGET_VIEW].get("model_id", "")
    shown = stored_widget_outputs(state, model_id)
    if any(key in output.get("data", {}) for output in shown for key in STATIC_TYPES):
        return shown
    return [*shown, _widget_note(binder_link)]


def prepare_for_static_page(
    notebook: nbformat.NotebookNode, binder_link: str
) -> nbformat.NotebookNode:
    """Return a copy of ``notebook`` with every widget output made static.

    The saved widget state is dropped too: with it, nbconvert would add a
    script that loads the widget library from a CDN, which a handed-out
    page cannot rely on.
    """
    notebook = copy.deepcopy(notebook)
    widgets = notebook.metadata.pop("widgets", {})
    state = widgets.get(WIDGET_STATE, {}).get("state", {})
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = [
            new
            for output in cell.outputs
            for new in static_outputs(output, state, binder_link)
        ]
        cell.outputs = [nbformat.from_dict(output) for output in outputs]
    return notebook


# ---------------------------------------------------------------------------
# Pages


def _short_title(lesson: Lesson) -> str:
    """The title up to its colon: ``"02 · Extreme logits"``."""
    return lesson.title.split(":", 1)[0]


def _navigation(lessons: Sequence[Lesson], index: int) -> str:
    """A bar linking the index, the previous and next lesson, and Binder."""
    links = ['<a href="index.html">All lessons</a>']
    if index > 0:
        previous = lessons[index - 1]
        links.append(
            f'<a href="{previous.page_name}">'
            f"&larr; {html.escape(_short_title(previous))}</a>"
        )
    if index + 1 < len(lessons):
        following = lessons[index + 1]
        links.append(
            f'<a href="{following.page_name}">'
            f"{html.escape(_short_title(following))} &rarr;</a>"
        )
    binder = html.escape(lessons[index].binder_url)
    links.append(f'<a href="{binder}">Run this lesson on Binder</a>')
    return f'<nav class="handout-nav">{" ".join(links)}</nav>'


def render_lesson(lesson: Lesson, navigation: str, exporter: HTMLExporter) -> str:
    """Render one lesson notebook, its stored outputs included, as HTML."""
    notebook = nbformat.read(lesson.path, as_version=4)
    notebook = prepare_for_static_page(notebook, lesson.binder_url)
    body, _ = exporter.from_notebook_node(
        notebook,
        resources={"metadata": {"name": lesson.title, "path": str(lesson.path.parent)}},
    )
    # The navigation goes first in the body, so it is the first thing seen.
    extra = f"<style>{_LESSON_STYLE}</style>{navigation}"
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + extra, body, count=1)
    return body


def render_index(lessons: Sequence[Lesson]) -> str:
    """Return the index page: every lesson with its title, time and Binder link."""
    rows = "\n".join(
        "<tr>"
        f'<td><a href="{lesson.page_name}">{html.escape(lesson.title)}</a></td>'
        f"<td>{f'{lesson.minutes} min' if lesson.minutes else ''}</td>"
        f'<td><a href="{html.escape(lesson.binder_url)}">Run on Binder</a></td>'
        "</tr>"
        for lesson in lessons
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(COURSE_TITLE)}</title>
<style>{_INDEX_STYLE}</style>
</head>
<body>
<h1>{html.escape(COURSE_TITLE)}</h1>
<p>Each lesson as it runs, code, outputs and figures included. The explorers
need a running kernel: open a lesson on Binder to move the sliders.</p>
<table>
<thead><tr><th>Lesson</th><th>Time</th><th>Interactive</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def build_handout(notebooks: Path, output: Path) -> list[Path]:
    """Render every lesson in ``notebooks`` and an index into ``output``.

    Parameters
    ----------
    notebooks : Path
        The folder of ``NN_name.ipynb`` lessons, with stored outputs.
    output : Path
        Where the pages go; created if needed. Existing pages are replaced.

    Returns
    -------
    list[Path]
        The pages written, the index last.

    Raises
    ------
    FileNotFoundError
        If ``notebooks`` is not a folder or holds no lesson.
    """
    lessons = find_lessons(notebooks)
    if not lessons:
        raise FileNotFoundError(
            f"no lessons named like {LESSON_GLOB} in {notebooks}; pass the "
            f"course's notebooks folder"
        )
    output.mkdir(parents=True, exist_ok=True)
    # embed_images also inlines images that markdown cells link to.
    exporter = HTMLExporter(template_name="lab", embed_images=True)

    written = []
    for number, lesson in enumerate(lessons):
        page = output / lesson.page_name
        page.write_text(
            render_lesson(lesson, _navigation(lessons, number), exporter),
            encoding="utf-8",
        )
        written.append(page)
    index = output / "index.html"
    index.write_text(render_index(lessons), encoding="utf-8")
    written.append(index)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point used by ``make html``."""
    parser = argparse.ArgumentParser(
        prog="python -m softsample_helpers.handout",
        description="Render the lessons, with their stored outputs, as HTML pages.",
    )
    parser.add_argument("notebooks", type=Path, help="folder of NN_name.ipynb lessons")
    parser.add_argument("output", type=Path, help="folder to write the pages to")
    arguments = parser.parse_args(argv)

    pages = build_handout(arguments.notebooks, arguments.output)
    print(f"Wrote {len(pages) - 1} lesson pages and {pages[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
