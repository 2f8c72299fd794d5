"""The study summary as one self-contained HTML page: the summary's Markdown rendered and the
study's figures inline (PNG data URIs), so the Snakemake report can open on it.

The Markdown is the subset :func:`dcpower.sweep.study_summary_markdown` writes: ``#`` headings,
paragraphs, ``- `` lists, pipe tables and inline ```code```; everything else is escaped text.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from pathlib import Path

_CODE = re.compile(r"`([^`]+)`")
STYLE = """
.dcpower-summary { max-width: 100%; font-family: system-ui, sans-serif; font-size: 14px; }
.dcpower-summary table { border-collapse: collapse; margin: 0.5em 0 1em; }
.dcpower-summary th, .dcpower-summary td { border: 1px solid #ccc; padding: 2px 6px;
  text-align: left; vertical-align: top; }
.dcpower-summary th { background: #f3f3f3; }
.dcpower-summary img { max-width: 100%; height: auto; margin: 0.5em 0; }
.dcpower-summary figure { margin: 0 0 1.5em; }
.dcpower-summary code::before, .dcpower-summary code::after { content: none !important; }
/* Snakemake's report: let the landing text take the page, starting at its top (the report's
   centred, overflowing content box would otherwise cut the summary's head off) */
.prose { max-width: none !important; }
.h-screen.items-center.justify-center { align-items: flex-start !important;
  justify-content: flex-start !important; }
"""


def _inline(text: str) -> str:
    """Escaped text with ```code``` spans."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text, quote=False))


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown_to_html(text: str) -> str:
    """HTML body of the summary's Markdown subset."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif m := re.match(r"^(#{1,6})\s+(.*)$", line):
            level = len(m.group(1))
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            body = [r for r in rows[1:] if not re.fullmatch(r"\|[-:| ]+\|?", r.strip())]
            head = "".join(f"<th>{_inline(c)}</th>" for c in _cells(rows[0]))
            trs = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in _cells(r)) + "</tr>"
                for r in body
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>")
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"^(#|\||- )", lines[i]):
                para.append(lines[i])
                i += 1
            out.append(f"<p>{_inline(' '.join(para))}</p>")
    return "\n".join(out)


def figure_html(path: Path, caption: str) -> str:
    """A PNG figure inline (base64 data URI) with its caption."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}"/>'
        f"<figcaption>{_inline(caption)}</figcaption></figure>"
    )


def summary_html(markdown: str, figures: Iterable[tuple[Path, str]]) -> str:
    """The summary page: a style block, the figures after the summary's first paragraph block
    (the frontier first), then the rest of the summary. ``figures``: (PNG path, caption)."""
    body = markdown_to_html(markdown)
    first, sep, rest = body.partition("<h2>")
    figs = "\n".join(figure_html(p, c) for p, c in figures)
    return (
        f'<style>{STYLE}</style>\n<div class="dcpower-summary">\n{first}'
        f"<h2>Figures</h2>\n{figs}\n{sep}{rest}\n</div>\n"
    )
