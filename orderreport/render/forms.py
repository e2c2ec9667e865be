"""Which function renders the digest in which format: the one table of them."""

from __future__ import annotations

from collections.abc import Callable

from orderreport.render import digest, html
from orderreport.reports.digest import Digest

DIGEST: dict[str, Callable[[Digest], str]] = {
    "text": digest.text,
    "markdown": digest.markdown,
    "html": html.html,
    "json": digest.json,
}
