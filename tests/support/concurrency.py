"""Run requests at the same moment: each call in its own thread, all released by one barrier.

Each call should make its own test client (a Flask test client is not shared between
threads); every request then runs in its own app context, with its own database session
and connection, as it would in a threaded server.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

JOIN_TIMEOUT = 60


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Start the calls together and return their results in order; re-raise the first error."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(JOIN_TIMEOUT)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001  (handed to the test's thread below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish"
    if errors:
        raise errors[0]
    return results


def client_with_session(app, cookie: str):
    """A new test client of app that carries the given session cookie (another tab of one browser)."""
    client = app.test_client()
    client.set_cookie("nergi_session", cookie)
    return client
