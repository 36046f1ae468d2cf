"""Charts drawn on the server with matplotlib, as SVG, cached by a key of their data.

Only the object-oriented API is used (a new `Figure` per chart, never pyplot), so nothing is
shared between the threads of a worker except the cache below, which has its own lock.
The key is a hash of the numbers and labels drawn: the dashboard puts it in the image's URL,
so a browser re-fetches a chart only when its data changed, and a worker draws it only once.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, timedelta
from io import BytesIO
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from babel.dates import format_skeleton

# matplotlib (with numpy, about 50 MB) is imported when a chart is first drawn, not when the
# app starts: most workers never draw one (issue 18).

CACHE_SIZE = 128
BRAND, GRID = "#1d6b3a", "#cfd6d1"
_cache: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def chart_key(kind: str, data: Any, labels: dict[str, str]) -> str:
    """A short hash of everything the chart shows."""
    blob = json.dumps([kind, data, labels], default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def cached(key: str, draw: Callable[[], bytes]) -> bytes:
    """The chart for this key, drawn once per worker (least recently used ones are dropped)."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    svg = draw()
    with _lock:
        _cache[key] = svg
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return svg


def _matplotlib():
    import matplotlib

    matplotlib.use("Agg")  # no display; our figures never touch pyplot anyway
    import matplotlib.dates  # noqa: F401  (registers the converters for date axes)
    import matplotlib.figure
    import matplotlib.ticker

    return matplotlib


def _figure() -> tuple[Figure, Any]:
    figure = _matplotlib().figure.Figure(figsize=(6.4, 3.2), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    return figure, axes


def _svg(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def completion_svg(series: list[tuple[date, float]], labels: dict[str, str]) -> bytes:
    """A line: the cohort's share of required items done, by day."""
    figure, axes = _figure()
    if series:
        # The line starts from nothing the day before the first completion (one day is no range).
        days = [series[0][0] - timedelta(days=1)] + [day for day, _ in series]
        values = [0.0] + [value for _, value in series]
        axes.step(days, values, where="post", color=BRAND, linewidth=2)
        axes.fill_between(days, values, step="post", color=BRAND, alpha=0.12)
        locator = _matplotlib().dates.AutoDateLocator(maxticks=6)
        axes.xaxis.set_major_locator(locator)
        # Day and month name in the reader's language (matplotlib would write English months).
        locale = labels.get("locale", "en")
        mpl = _matplotlib()
        axes.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(
            lambda value, _position: format_skeleton("MMMd", mpl.dates.num2date(value), locale=locale)))
    else:
        axes.text(0.5, 0.5, labels["empty"], ha="center", va="center", transform=axes.transAxes)
    axes.set_ylim(0, 100)
    axes.set_ylabel(labels["y"])
    return _svg(figure)


def scores_svg(counts: list[int], labels: dict[str, str]) -> bytes:
    """Bars: how many best quiz scores fall in each tenth of the scale."""
    figure, axes = _figure()
    positions = list(range(len(counts)))
    axes.bar(positions, counts, color=BRAND, width=0.8)
    axes.set_xticks(positions, [f"{10 * n}–{10 * n + 9 if n < len(counts) - 1 else 100}" for n in positions],
                    fontsize=8)
    axes.set_xlabel(labels["x"])
    axes.set_ylabel(labels["y"])
    axes.yaxis.get_major_locator().set_params(integer=True)
    if not any(counts):
        axes.text(0.5, 0.5, labels["empty"], ha="center", va="center", transform=axes.transAxes)
    return _svg(figure)
