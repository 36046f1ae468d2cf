"""A lesson's first visit on a phone is light: under 30 KB on the wire, nothing from elsewhere.

The budget counts what crosses the network for the lesson page and every sub-resource it loads
(stylesheet, scripts, pictures), headers included, on a first visit: a fresh browser context,
signed in, with the HTTP cache emptied after sign-in so the stylesheet counts too.

The page is measured with service workers blocked (what the page itself loads, offline.js
included, whatever the browser); what the service worker fetches for itself the first time
(sw.js, the offline page, the script's strings) is measured apart and counted in as well.
"""
from __future__ import annotations

import gzip
import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import sign_in

BUDGET = 30 * 1024
SCRIPTS_BUDGET = 12 * 1024  # offline.js and sw.js together, gzipped
STATIC = Path(__file__).resolve().parents[2] / "app" / "static"
FONT_SUFFIXES = (".woff", ".woff2", ".ttf", ".otf", ".eot")


def first_visit(browser, base_url, email: str, path: str) -> dict:
    """Sign in, empty the cache, open path; what crossed the wire, per response."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url,
                                  locale="en-GB", service_workers="block")
    try:
        page = context.new_page()
        sign_in(page, email)
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        page.wait_for_load_state("load")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")

        requests, responses = [], []
        page.on("request", lambda request: requests.append(request))
        page.on("response", lambda response: responses.append(response))
        page.goto(path, wait_until="load")
        # Pictures lower down count as well: scroll to the end and let them arrive.
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_load_state("networkidle")

        rows = []
        for response in responses:
            sizes = response.request.sizes()
            body = response.body() if response.status not in (204, 304) else b""
            rows.append({
                "url": response.url, "status": response.status,
                "type": response.request.resource_type,
                "wire": sizes["responseHeadersSize"] + sizes["responseBodySize"],
                "wire_body": sizes["responseBodySize"],
                "body": len(body), "gzip": len(gzip.compress(body, 6)) if body else 0,
            })
        timing = page.evaluate("""() => {
            const nav = performance.getEntriesByType('navigation')[0];
            const res = performance.getEntriesByType('resource');
            return {navigation: nav.transferSize,
                    resources: res.reduce((sum, r) => sum + r.transferSize, 0),
                    encoded: [nav, ...res].reduce((sum, r) => sum + r.encodedBodySize, 0),
                    fonts: document.fonts ? Array.from(document.fonts).map(f => f.family) : []};
        }""")
        lang = page.locator("html").get_attribute("lang")
        h1 = page.locator("h1").inner_text()
        return {"requests": [r.url for r in requests], "rows": rows, "timing": timing, "lang": lang,
                "h1": h1, "worker": service_worker_downloads(base_url, cookies)}
    finally:
        context.close()


def service_worker_downloads(base_url: str, cookies: dict[str, str]) -> dict[str, int]:
    """Bytes on the wire (gzip, as a browser asks, headers included) of what the service worker
    fetches for itself on its first start, for this signed-in user."""
    parts = urlsplit(base_url)
    sizes = {}
    for path in ("/sw.js", "/offline", "/offline/strings.json"):
        connection = http.client.HTTPConnection(parts.hostname, parts.port)
        connection.request("GET", path, headers={
            "Accept-Encoding": "gzip, deflate, br", "Host": parts.netloc,
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, (path, response.status)
        head = sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + 17
        sizes[path] = head + len(body)
        connection.close()
    return sizes


LESSONS = {
    # A small lesson with a picture; Aygün reads it in English (no Azerbaijani version).
    "format-tour-lesson-with-picture": ("learner2@example.org", "/courses/format-tour/links-and-media",
                                        "Links and media"),
    # The real course's first lesson, in Georgian (Tamar's interface is Georgian).
    "rba-introduction-in-georgian": ("trainer@example.org", "/courses/rba-five-principles/introduction",
                                     "საჭიროებებიდან უფლებებამდე"),
}

@pytest.fixture(scope="module")
def visits(browser, base_url):
    """Each lesson's first visit, measured once for the tests below."""
    measured = {}
    for key, (email, path, title) in LESSONS.items():
        seen = first_visit(browser, base_url, email, path)
        assert title in seen["h1"], seen["h1"]
        rows, timing = seen["rows"], seen["timing"]
        seen["wire"] = sum(row["wire"] for row in rows) + sum(seen["worker"].values())
        print(f"\n{path} first visit: {seen['wire']} B on the wire in {len(rows)} responses "
              f"({sum(row['body'] for row in rows)} B of bodies, {sum(row['gzip'] for row in rows)} B if "
              f"gzipped); Resource Timing: navigation {timing['navigation']} B + sub-resources "
              f"{timing['resources']} B; the service worker's own first downloads: {seen['worker']}")
        for row in rows:
            print(f"  {row['status']} {row['type']:<10} {row['wire']:>6} B wire {row['body']:>6} B body  "
                  f"{urlsplit(row['url']).path}")
        measured[key] = seen
    return measured


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_first_visit_loads_nothing_from_elsewhere_and_no_web_font(visits, lesson):
    seen = visits[lesson]
    rows = seen["rows"]
    # The measurement is a real first visit: the page and its stylesheet came over the network.
    assert [row["type"] for row in rows].count("document") == 1
    stylesheets = [row for row in rows if row["type"] == "stylesheet"]
    assert stylesheets and all(row["status"] == 200 and row["body"] > 0 for row in stylesheets)
    if lesson == "format-tour-lesson-with-picture":
        assert [row["status"] for row in rows if row["type"] == "image"] == [200]

    for url in seen["requests"]:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss"):
            assert parts.hostname == "127.0.0.1", f"third-party request: {url}"
        else:
            assert parts.scheme in ("data", "blob"), url
    fonts = [row["url"] for row in rows
             if row["type"] == "font" or urlsplit(row["url"]).path.lower().endswith(FONT_SUFFIXES)]
    assert fonts == []
    assert seen["timing"]["fonts"] == [], "the page declares web fonts (@font-face)"


@pytest.mark.parametrize("lesson", [
    "format-tour-lesson-with-picture",
    "rba-introduction-in-georgian",
])
def test_first_visit_of_a_lesson_is_under_30_kb(visits, lesson):
    seen = visits[lesson]
    # The browser's own account of the bodies agrees with what the test saw (nothing was missed).
    assert seen["timing"]["encoded"] == sum(row["wire_body"] for row in seen["rows"])
    assert seen["wire"] < BUDGET, f"{seen['wire']} B on the wire; the budget is {BUDGET} B"


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_offline_script_is_loaded_and_counted(visits, lesson):
    scripts = [row for row in visits[lesson]["rows"] if row["type"] == "script"]
    assert [urlsplit(row["url"]).path for row in scripts] == ["/static/offline.js"]
    assert scripts[0]["status"] == 200 and scripts[0]["wire_body"] < scripts[0]["body"]  # sent gzipped


def test_offline_scripts_stay_under_12_kb_gzipped():
    sizes = {name: len(gzip.compress((STATIC / name).read_bytes(), 9)) for name in ("offline.js", "sw.js")}
    print(f"\ngzipped: {sizes}, together {sum(sizes.values())} B")
    assert sum(sizes.values()) < SCRIPTS_BUDGET, sizes
