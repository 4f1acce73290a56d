"""Read pages as a user does: find one element, take its visible text.

Assertions about a page are scoped to the element that shows the fact (a dose
row, a status row), never to the whole page, where the same words may appear
in a form label or a menu.
"""
from __future__ import annotations

from bs4 import BeautifulSoup, Tag


def parse(response_or_html) -> BeautifulSoup:
    html = response_or_html if isinstance(response_or_html, str) else response_or_html.get_data(as_text=True)
    return BeautifulSoup(html, "html.parser")


def one(page, css: str) -> Tag:
    """Return the single element matching ``css`` (fails if none or several)."""
    soup = page if isinstance(page, (BeautifulSoup, Tag)) else parse(page)
    found = soup.select(css)
    assert len(found) == 1, f"{len(found)} elements match {css!r}"
    return found[0]


def text(element: Tag) -> str:
    """Return the element's text with whitespace collapsed."""
    return " ".join(element.get_text(" ").split())


def texts(page, css: str) -> list[str]:
    """Return the text of every element matching ``css``."""
    soup = page if isinstance(page, (BeautifulSoup, Tag)) else parse(page)
    return [text(e) for e in soup.select(css)]


def row_containing(page, css: str, needle: str) -> Tag:
    """Return the one element matching ``css`` whose heading or text contains ``needle``."""
    soup = page if isinstance(page, (BeautifulSoup, Tag)) else parse(page)
    found = [e for e in soup.select(css) if needle in text(e)]
    assert len(found) == 1, f"{len(found)} of {css!r} contain {needle!r}"
    return found[0]
