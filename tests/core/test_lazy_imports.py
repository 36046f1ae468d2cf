"""A worker that never draws a PDF or a chart does not load fpdf2, qrcode or matplotlib (issue 18).

Checked in a fresh interpreter: the test process itself has imported everything long ago.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.conftest import TEST_CONFIG
from tests.support.factories import PASSWORD

HEAVY = ("fpdf", "qrcode", "matplotlib", "numpy", "PIL")

SCRIPT = textwrap.dedent("""
    import json, sys
    from app import create_app

    config, email, password, lesson = json.loads(sys.argv[1])
    app = create_app(config)
    client = app.test_client()
    signed_in = client.post("/login", data={"email": email, "password": password})
    page = client.get(lesson)
    home = client.get("/")
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in %r)
    print(json.dumps({"login": signed_in.status_code, "lesson": page.status_code,
                      "home": home.status_code, "text": page.get_data(as_text=True),
                      "loaded": loaded}))
""" % (HEAVY,))


def _run(config, *args) -> dict:
    result = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps([config, *args])],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_serving_a_lesson_loads_no_pdf_or_chart_library(app, factories, tmp_path):
    course = factories.make_course(items=("lesson",))
    learner = factories.make_user()
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
              "UPLOAD_FOLDER": str(tmp_path / "uploads"),
              "SIGNING_KEY_PATH": str(tmp_path / "signing-key.pem")}
    seen = _run(config, learner.email, PASSWORD, f"/courses/{course.slug}/item1")
    assert (seen["login"], seen["lesson"], seen["home"]) == (302, 200, 200)
    assert "Text of item 1 in en" in seen["text"]
    assert seen["loaded"] == []


def test_the_libraries_load_when_a_certificate_pdf_is_drawn():
    """The other side: drawing a PDF and a chart still works, and imports them then."""
    script = textwrap.dedent("""
        import sys
        from datetime import date
        from app.certificates import pdf
        from app.cohorts import charts
        before = sorted(n for n in ("fpdf", "qrcode", "matplotlib") if n in sys.modules)
        labels = {key: key for key in pdf.LABEL_KEYS}
        data = pdf.render_certificate_pdf(pdf.CertificateText(learner_name="Nino", course_title="Course",
            issued_on=date(2026, 1, 5), locale="en", programme="Programme",
            signatory_name="A", signatory_title="B", code="ABCD-EFGH",
            verify_url="http://nergi.test/verify/ABCD-EFGH", labels=labels))
        svg = charts.scores_svg([1, 2, 3, 4, 5], {"x": "x", "y": "y", "empty": "none"})
        after = sorted(n for n in ("fpdf", "qrcode", "matplotlib") if n in sys.modules)
        print(before, after, data[:5] == b"%PDF-", svg.lstrip().startswith(b"<?xml"))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "['fpdf',", "'matplotlib',", "'qrcode']", "True", "True"]
