"""Finding the array in a body, and ending pages by what was served.

Armature documents only some list envelopes (`rows`, `sessions`, `events`); a real host may
use `data`, `items`, `results`, the resource's plural name, or a bare array. Bodies arrive
here snake_cased by the client. Everything here reads bodies tolerantly and fails loudly only
when no reading works.
"""

from __future__ import annotations

import concurrent.futures
import json
from typing import Any, Callable, Iterator, Mapping, Protocol

from armature_source.errors import ContractError
from armature_source.http.lenient_json import RAW_KEPT, unreadable
from armature_source.vocabulary import RUNS_PAGE_SIZE

ENVELOPE_KEYS = ("rows", "data", "items", "results", "sessions", "events", "spans")
MAX_PAGES = 5_000


class Submitter(Protocol):
    def submit(self, path: str, params: Mapping[str, Any] | None = None, *,
               missing_ok: bool = ...) -> concurrent.futures.Future[Any]: ...


def pick_rows(body: Any, *names: str, where: str = "") -> list[dict[str, Any]]:
    """The list of records in a list body.

    Accepts, for example::

        {"rows": [{...}], "page": 1, "page_size": 100, "total": 512}
        {"data": [{...}], "has_more": true}
        {"sessions": [{...}]}
        [{...}, {...}]

    Args:
        names: envelope keys to try first (e.g. the resource's plural name).
        where: the request the body answered (`GET /runs`), named in the error.

    Raises:
        ContractError: no member holds the array.
    """
    if isinstance(body, list):
        return _records(body)
    prefix = f"{where}: " if where else ""
    if not isinstance(body, dict):
        raise ContractError(f"{prefix}expected a JSON object or array, got {type(body).__name__}")
    for key in (*names, *ENVELOPE_KEYS):
        if isinstance(body.get(key), list):
            return _records(body[key])
    arrays = [k for k, v in body.items() if isinstance(v, list)]
    if len(arrays) == 1:
        return _records(body[arrays[0]])
    raise ContractError(
        f"{prefix}cannot find the list in a body with keys {sorted(body)}; expected one of "
        f"{list((*names, *ENVELOPE_KEYS))}"
    )


def _records(members: list[Any]) -> list[dict[str, Any]]:
    """A list's members as records: a member that is not a JSON object (a body nested inside
    arrays, a bare number) becomes an unreadable record, which its table's conversion sets
    aside in rejected_records while the rest of the list loads."""
    return [member if isinstance(member, dict) else
            unreadable(_text(member), f"a JSON {type(member).__name__} where a record (an object) belongs")
            for member in members]


class _Literal(str):
    """Text already written, on `_text`'s stack beside the values still to write."""


def _text(value: Any) -> str:
    """`value` as JSON text (its first 64 KiB), for the record of it: written with a stack of
    its own, so no nesting is too deep to write, nor to raise a RecursionError."""
    out: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack and size < RAW_KEPT:
        item = stack.pop()
        if isinstance(item, _Literal):
            piece = str(item)
        elif isinstance(item, dict):
            parts: list[Any] = [_Literal("{")]
            for i, (key, member) in enumerate(item.items()):
                parts += [_Literal(("," if i else "") + json.dumps(str(key)) + ":"), member]
            stack += reversed([*parts, _Literal("}")])
            continue
        elif isinstance(item, list):
            parts = [_Literal("[")]
            for i, member in enumerate(item):
                parts += [_Literal(","), member] if i else [member]
            stack += reversed([*parts, _Literal("]")])
            continue
        else:
            piece = json.dumps(item, default=str)
        out.append(piece)
        size += len(piece)
    return "".join(out)[:RAW_KEPT]


def _meta(body: Any, *keys: str) -> Any:
    if not isinstance(body, dict):
        return None
    for key in keys:
        if key in body:
            return body[key]
    return None


def is_last_page(body: Any, rows: list[Any], page: int, served_before: int) -> bool:
    """Whether a page-number listing ends with this page, judged by what was served.

    A short page ends the listing only when the host said how many it serves per page;
    a host that silently caps `pageSize` lower than asked is read until an empty page.
    """
    if not rows:
        return True
    has_more = _meta(body, "has_more")
    if isinstance(has_more, bool):
        return not has_more
    if isinstance(body, dict) and ("next" in body or "next_page" in body):
        return not _meta(body, "next", "next_page")
    total = _meta(body, "total", "total_count")
    if isinstance(total, int):
        return served_before + len(rows) >= total
    served_size = _meta(body, "page_size")
    if isinstance(served_size, int) and served_size > 0:
        return len(rows) < served_size
    return False


def iter_pages(
    client: Submitter,
    path: str,
    params: Mapping[str, Any],
    *names: str,
    page_size: int = RUNS_PAGE_SIZE,
    max_pages: int = MAX_PAGES,
    last: Callable[[list[dict[str, Any]]], bool] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of each page of a `page`/`pageSize` listing until it ends.

    The next page is asked for as soon as this one shows there is one, so that it is on its
    way while the caller works on this one; never beyond the last page.

    Args:
        client: sends the GET and returns the (snake_cased) body in a future.
        path: the listing's path, e.g. `/runs`.
        names: envelope keys to try first.
        last: the caller's own end: no page is asked for after one whose rows it is true of.

    Raises:
        ContractError: more than `max_pages` pages (a host that never ends its listing).
    """
    served = 0

    def ask(page: int) -> concurrent.futures.Future[Any]:
        return client.submit(path, {**params, "page": page, "pageSize": page_size}, missing_ok=False)

    coming = ask(1)
    try:
        for page in range(1, max_pages + 1):
            body = coming.result()
            rows = pick_rows(body, *names, where=f"GET {path}")
            done = is_last_page(body, rows, page, served) or (last is not None and last(rows))
            if not done and page < max_pages:
                coming = ask(page + 1)
            if rows:
                yield rows
            if done:
                return
            served += len(rows)
    finally:
        coming.cancel()
    raise ContractError(
        f"the listing did not end after {max_pages} pages of {page_size}; the host's paging "
        "does not match what the source understands. Report this with `armature-pipeline check`."
    )
