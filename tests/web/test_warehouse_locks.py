"""A long build or import must not stall the pages: the short writes every page makes (its
audit entry, a sign-in, a capture) take a lock of their own."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of

pytestmark = pytest.mark.slow


def test_pages_and_captures_go_on_while_a_build_holds_the_warehouse(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    teacher = clients["teacher"]
    pupil = web_trust.in_group[0]
    warehouse = teacher.app.state.warehouse  # type: ignore[attr-defined]
    answers: dict[str, int] = {}

    def visit() -> None:
        answers["pupil"] = teacher.get(f"/pupils/{pupil}").status_code
        form = teacher.get(f"/capture/{pupil}?kind=check_in")
        answers["saved"] = teacher.post(
            f"/capture/{pupil}",
            data={"kind": "check_in", "mood": "4", "engagement": "3", "csrf": csrf_of(form.text)},
            follow_redirects=False,
        ).status_code

    with warehouse.write_lock:  # as a rebuild does for seconds at a time
        worker = threading.Thread(target=visit)
        worker.start()
        worker.join(timeout=60)
        stalled = worker.is_alive()
    worker.join()
    assert not stalled, "a page waited for the build lock"
    assert answers == {"pupil": 200, "saved": 303}
