"""The study summary page: Markdown subset to HTML, figures inline."""

from __future__ import annotations

import base64

from dcpower.report_html import markdown_to_html, summary_html

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def test_markdown_subset_renders_headings_tables_lists_and_escapes():
    md = (
        "# Study x\n\nRequested MIP gap 0.5000%; a < b `code`.\n\n## Levels\n\n"
        "| level | scenario |\n|---|---|\n| 0.9 | bess_mwh~400 |\n\n- one\n- two\n"
    )
    html = markdown_to_html(md)
    assert "<h1>Study x</h1>" in html and "<h2>Levels</h2>" in html
    assert "<p>Requested MIP gap 0.5000%; a &lt; b <code>code</code>.</p>" in html
    assert "<th>level</th>" in html and "<td>bess_mwh~400</td>" in html and "---" not in html
    assert html.count("<li>") == 2


def test_summary_page_inlines_the_figures_after_the_head(tmp_path):
    fig = tmp_path / "frontier.png"
    fig.write_bytes(PNG)
    page = summary_html("# Study x\n\nhead\n\n## Levels\n\ntext\n", [(fig, "frontier")])
    assert base64.b64encode(PNG).decode() in page
    assert page.index("head") < page.index("data:image/png") < page.index("<h2>Levels")
