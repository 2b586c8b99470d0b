"""Every page shape of GET /builds the docs leave open."""

from __future__ import annotations

from typing import Any

import pytest

from capwrapper_action.api.pages import parse_page
from capwrapper_action.errors import UnexpectedResponseError

BASE = "https://api.example.test/v1"


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, message: str) -> None:
        self.lines.append(message)


def b(build_id: str) -> dict[str, Any]:
    return {"id": build_id, "status": "success", "platform": "ios", "extra": {"x": 1}}


@pytest.mark.parametrize(
    "data",
    [
        [b("a"), b("b")],
        {"data": [b("a"), b("b")]},
        {"builds": [b("a"), b("b")], "hasMore": False, "next": None},
        {"items": [b("a"), b("b")], "total": 2},
        {"data": [b("a"), b("b")], "cursor": None, "hasMore": False},
    ],
)
def test_one_page_shapes(data: Any) -> None:
    page = parse_page(data, BASE, Log())
    assert [x.id for x in page.builds] == ["a", "b"]
    assert page.next_params is None
    assert page.builds[0].raw["extra"] == {"x": 1}


@pytest.mark.parametrize(
    ("data", "params"),
    [
        ({"data": [b("a")], "nextCursor": "abc"}, {"cursor": "abc"}),
        ({"builds": [b("a")], "next": "abc", "hasMore": True}, {"cursor": "abc"}),
        ({"data": [b("a")], "cursor": "abc"}, {"cursor": "abc"}),
        ({"data": [b("a")], "nextCursor": 40}, {"cursor": "40"}),
        ({"data": [b("a")], "next": "/v1/builds?cursor=q&limit=5"}, {"cursor": "q", "limit": "5"}),
        ({"data": [b("a")], "next": f"{BASE}/builds?page=2"}, {"page": "2"}),
        ({"data": [b("a")], "next": "HTTPS://API.EXAMPLE.TEST/v1/builds?c=1"}, {"c": "1"}),
    ],
)
def test_cursors(data: dict[str, Any], params: dict[str, str]) -> None:
    assert parse_page(data, BASE, Log()).next_params == params


@pytest.mark.parametrize(
    "data",
    [
        {"data": [b("a")], "nextCursor": "abc", "hasMore": False},
        {"data": [b("a")], "next": "https://other.test/v1/builds?cursor=x"},
        {"data": [b("a")], "next": "http://api.example.test/v1/builds?cursor=x"},
        {"data": [b("a")], "next": "/v1/builds"},
        {"data": [b("a")], "nextCursor": True},
        {"data": [b("a")], "nextCursor": {"weird": 1}},
        {"data": [b("a")], "nextCursor": "x" * 5000},
    ],
)
def test_no_next_page(data: dict[str, Any]) -> None:
    assert parse_page(data, BASE, Log()).next_params is None


def test_malformed_entries_are_skipped_and_logged() -> None:
    log = Log()
    page = parse_page([b("a"), "junk", {"status": "queued"}, None, {"id": ""}, b("b")], BASE, log)
    assert [x.id for x in page.builds] == ["a", "b"]
    assert len(log.lines) == 4
    assert log.lines[0].startswith("GET /builds: skipped entry 1:")


@pytest.mark.parametrize("data", ["text", 3, None, {"results": []}, {"data": {"id": "x"}}])
def test_answers_that_are_not_lists(data: Any) -> None:
    with pytest.raises(UnexpectedResponseError, match="GET /builds answered"):
        parse_page(data, BASE, Log())
