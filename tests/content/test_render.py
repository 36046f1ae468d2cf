"""render_markdown: safety (the docs/security.md OUT-2 oracle over an XSS corpus), idempotence,
features, speed guard (OUT-5)."""
from __future__ import annotations

import time

import pytest
from markupsafe import Markup

from app.content.render import render_markdown, slugify
from app.content.render_guard import DEFAULT_LIMITS, complexity_problem, work_units
from app.content.sanitize import sanitize_html
from tests.content.xss_corpus import CORPUS
from tests.support.html_oracle import is_safe, unsafe_reasons

MOODLE = "< > & &lt; &gt; &amp; ' \\' 碁 \\ \\\\"


def test_corpus_is_large_and_mostly_dangerous_before_rendering() -> None:
    assert len(CORPUS) >= 80
    # The oracle is not vacuous: most payloads are unsafe as raw HTML (the rest are Markdown tricks).
    assert sum(1 for payload in CORPUS if unsafe_reasons(payload)) >= 100


@pytest.mark.parametrize(
    "html",
    [
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="javascript:1">x</a>',
        '<img src=x onerror=alert(1)>',
        '<svg><a xlink:href="javascript:alert(1)"></a></svg>',
        '<div style="background:\\75 rl(x)">x</div>',
        '<img srcset="ok.png 1x, javascript:alert(1) 2x">',
        '<iframe srcdoc="x"></iframe>',
        '<meta http-equiv="refresh" content="0">',
    ],
)
def test_oracle_flags_known_unsafe_html(html: str) -> None:
    assert not is_safe(html)


def test_oracle_accepts_ordinary_html() -> None:
    assert is_safe('<p><a href="https://example.org/a?b=1&amp;c=2">x</a> <img src="media/a.png" alt=""></p>')


@pytest.mark.parametrize("payload", CORPUS)
def test_payload_renders_safely_and_idempotently(payload: str) -> None:
    block = render_markdown(payload)
    inline = render_markdown(payload, inline=True)
    assert unsafe_reasons(str(block)) == []
    assert unsafe_reasons(str(inline)) == []
    assert sanitize_html(str(block)) == str(block)
    assert sanitize_html(str(inline), inline=True) == str(inline)
    twice = render_markdown(str(block))
    assert unsafe_reasons(str(twice)) == []
    assert sanitize_html(str(twice)) == str(twice)


def test_payload_with_resolver_stays_safe() -> None:
    for payload in CORPUS:
        html = render_markdown(payload, link_resolver=lambda url: f"/r/{url}")
        assert unsafe_reasons(str(html)) == [], payload


def test_returns_markup() -> None:
    assert isinstance(render_markdown("*x*"), Markup)
    assert isinstance(render_markdown("x" * 200_000), Markup)


def test_javascript_link_keeps_only_its_text() -> None:
    assert render_markdown("[click](javascript:alert(1))") == "<p>click</p>"
    assert render_markdown("<a href='javascript:1'>digits</a>") == "<p>digits</p>"


def test_table_footnote_definition_list_admonitions() -> None:
    html = str(render_markdown(
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n"
        "Text[^n].\n\n[^n]: The note.\n\n"
        "Term\n: Definition\n\n"
        '!!! tip "Worked example"\n    Body.\n\n'
        "!!! warning\n    Careful.\n\n"
        "```python\nx = 1 < 2\n```\n"
    ))
    assert '<th align="left">a</th>' in html and '<td align="right">2</td>' in html
    assert '<sup id="fnref-n"><a class="footnote-ref" href="#fn-n">1</a></sup>' in html
    assert '<li id="fn-n">' in html and 'class="footnote-backref"' in html
    assert "<dl>\n<dt>Term</dt>\n<dd>Definition</dd>\n</dl>" in html
    assert '<div class="admonition tip">\n<p class="admonition-title">Worked example</p>\n<p>Body.</p>\n</div>' in html
    assert '<div class="admonition warning">' in html
    assert '<pre><code class="language-python">x = 1 &lt; 2\n</code></pre>' in html


def test_unknown_classes_and_styles_are_dropped() -> None:
    html = str(render_markdown('<div class="admonition evil" style="color:red" id="x">t</div>'))
    assert html == "<div>t</div>"


def test_heading_anchors_keep_unicode_letters() -> None:
    html = str(render_markdown("## Rights-holders\n\n## უფლებები და მოვალეობები\n\n## Права человека\n\n## Rights-holders"))
    assert '<h2 id="rights-holders">' in html
    assert '<h2 id="უფლებები-და-მოვალეობები">' in html
    assert '<h2 id="права-человека">' in html
    assert '<h2 id="rights-holders_1">' in html


def test_slugify() -> None:
    assert slugify("Hayır, ölçü!") == "hayır-ölçü"
    assert slugify(" Իրավունքներ") == "իրավունքներ"
    assert slugify("?!") == "section"


def test_link_resolver_rewrites_and_reports_broken() -> None:
    seen: list[str] = []

    def resolve(url: str) -> str | None:
        seen.append(url)
        return None if "missing" in url else f"/courses/c/{url.split('.')[0]}"

    html = str(render_markdown(
        "[next](02-next.en.md#part) [gone](missing.md) ![pic](media/missing.png) "
        "[web](https://example.org) [mail](mailto:a@example.org) [here](#top)",
        link_resolver=resolve,
    ))
    assert seen == ["02-next.en.md#part", "missing.md", "media/missing.png"]
    assert '<a href="/courses/c/02-next">next</a>' in html
    assert " gone " in html and "pic" in html and "missing" not in html
    assert '<a href="https://example.org">web</a>' in html and '<a href="#top">here</a>' in html


def test_resolver_output_is_checked_too() -> None:
    assert render_markdown("[x](a.md)", link_resolver=lambda url: "javascript:alert(1)") == "<p>x</p>"


def test_inline_has_no_paragraph_and_no_blocks() -> None:
    assert render_markdown("A *short* summary", inline=True) == "A <em>short</em> summary"
    assert "<h1" not in render_markdown("# Title\n\ntext", inline=True)


def test_moodle_string_is_escaped_once() -> None:
    # Markdown reads &lt; as "<" and "\\" as "\", so each shows as written once, never double-escaped.
    expected = "&lt; &gt; &amp; &lt; &gt; &amp; ' \\' 碁 \\ \\"
    assert render_markdown(MOODLE, inline=True) == expected
    assert render_markdown(MOODLE) == f"<p>{expected}</p>"
    assert "&amp;lt;" not in render_markdown(MOODLE) and "&amp;amp;" not in render_markdown(MOODLE)


PATHOLOGICAL = {
    "nested emphasis": "*a **b " * 30_000,
    "emphasis run": "*" * 100_000 + "a" + "*" * 100_000,
    "backtick runs": "".join("`" * i + "x" for i in range(1, 630)),
    "deep block quote": ">" * 200_000,
    "block quote lines": "".join(">" * (i % 100) + " x\n" for i in range(1, 4000)),
    "deep list": "".join("  " * (i % 100) + "- x\n" for i in range(2000)),
    "open brackets": "[a " * 70_000,
    "open links": "[a](b " * 35_000,
    "open angles": "<a " * 70_000,
    "nested html": "<div>" * 40_000,
    "entities": "&lt;" * 50_000,
    "many headings": "# a\n" * 50_000,
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_input_is_refused_cheaply(name: str) -> None:
    text = PATHOLOGICAL[name]
    assert len(text) >= 150_000 or name == "backtick runs"
    assert complexity_problem(text) is not None or name == "backtick runs"
    started = time.perf_counter()
    html = render_markdown(text)
    elapsed = time.perf_counter() - started
    print(f"{name}: {len(text)} chars in {elapsed * 1000:.1f} ms")  # a figure, not an assertion
    assert is_safe(str(html))


@pytest.mark.parametrize(
    "text",
    ["[a " * 400, "<a " * 400, "*" * 3000, "| a |\n" * 1500, "a\n\n" * 2000, "# a\n" * 400, "> " * 13 + "x"],
)
def test_guard_catches_small_but_costly_inputs(text: str) -> None:
    assert complexity_problem(text) is not None
    assert "<p>" in render_markdown(text) or render_markdown(text) == ""


def test_guard_lets_ordinary_lessons_through() -> None:
    lesson = (
        "## Rights-holders\n\nText with a [link](https://example.org) and *emphasis* (see below).\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n\n> quote\n\n"
    ) * 40
    assert complexity_problem(lesson) is None
    assert work_units(lesson) < DEFAULT_LIMITS.max_units
    assert "<table>" in render_markdown(lesson)


def test_fallback_shows_text_escaped() -> None:
    text = "<script>x</script> & more\n\n" + "[a " * 500
    html = str(render_markdown(text))
    assert html.startswith("<p>&lt;script&gt;x&lt;/script&gt; &amp; more</p>")
    assert sanitize_html(html) == html
