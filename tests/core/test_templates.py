"""Output encoding rules (docs/security.md OUT-3): no |safe anywhere; |stored_html only on HTML that came
out of render_markdown at sync time; plain-text fields are escaped once."""
from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"

# Every expression allowed before |stored_html (which marks HTML safe and sanitises nothing): stored output of app.content.render.render_markdown.
ALLOWED = {
    "card.course.summary(lang)", "course.summary(lang)", "translation.html", "quiz.intro_html",
    "q.text_html", "o.text_html", "p.text_html", "q.feedback_html", "r.grade.feedback_html", "c",
    "message.body_html",  # a message of a submission's conversation (app/assignments/conversation.py)
    "body_html",  # a trainer's message, rendered when it was sent (app/cohorts/announcements.py)
}


def test_no_template_uses_safe():
    offenders = [str(p) for p in TEMPLATES.rglob("*.html") if "|safe" in p.read_text().replace(" ", "")]
    assert offenders == []


def test_stored_html_is_used_only_on_rendered_markdown():
    used = set()
    for path in TEMPLATES.rglob("*.html"):
        for expression in re.findall(r"\{\{\s*([^{}|]+?)\s*\|\s*stored_html", path.read_text()):
            used.add(expression.strip())
    assert used and used <= ALLOWED, used - ALLOWED


def test_plain_text_fields_are_escaped_once(client, auth, factories):
    moodle = "< > & &lt; &gt; &amp; ' \\' 碁 \\ \\\\ <script>alert(1)</script>"
    user = factories.make_user(name=moodle)
    auth.login_as(user)
    body = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt; &gt; &amp; &amp;lt; &amp;gt; &amp;amp; &#39; \\&#39; 碁 \\ \\\\ &lt;script&gt;" in body
