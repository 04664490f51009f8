"""What the pipeline tells health about each response from a source's own URL.

After the source's first URL answered (not for a 304, not for article pages) the pipeline computes
`page_facts(body, content_type)` off the writer thread, then runs `observe_fetch` in a write: it
records whether the response is a placeholder and, while it is content, learns the size the URL
usually serves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from monitor.health.placeholder import PageFacts, next_typical, placeholder_reason
from monitor.health.tables import source_health
from monitor.storage.direct import Direct

OK = "ok"

# Built once: the write stage runs these after every poll that got content.
_TYPICAL = Direct(
    select(source_health.c.typical_size, source_health.c.typical_html).where(
        source_health.c.source == bindparam("b_source")
    )
)
_PLACEHOLDER: dict[str, Any] = {
    "placeholder": bindparam("b_placeholder"),
    "placeholder_at": bindparam("b_at"),
}
_CONTENT: dict[str, Any] = {
    **_PLACEHOLDER,
    "typical_size": bindparam("b_size"),
    "typical_html": bindparam("b_html"),
}
_UPDATE = {  # keyed by "the response is content"
    is_content: Direct(
        update(source_health)
        .where(source_health.c.source == bindparam("b_source"))
        .values(_CONTENT if is_content else _PLACEHOLDER)
    )
    for is_content in (True, False)
}


def observe_fetch(conn: Connection, source: str, facts: PageFacts, now: datetime) -> str | None:
    """Record one response of `source`'s URL (its `page_facts`); returns the placeholder
    reason, if any. Cheap: one read and one write of the source's health row."""
    typical = _TYPICAL.first(conn, {"b_source": source})
    previous = None if typical is None else typical.typical_size
    reason = placeholder_reason(facts, previous, None if typical is None else typical.typical_html)
    values: dict[str, object] = {
        "placeholder": reason,
        "placeholder_at": now if reason else None,
    }
    if reason is None:
        values["typical_size"] = next_typical(previous, facts.size)
        values["typical_html"] = facts.html
    if typical is not None:
        _UPDATE[reason is None].later(  # deferred in the writer (see monitor.storage.direct)
            conn,
            {
                "b_source": source,
                "b_placeholder": reason,
                "b_at": values["placeholder_at"],
                "b_size": values.get("typical_size"),
                "b_html": values.get("typical_html"),
            },
        )
        return reason
    try:
        with conn.begin_nested():  # a savepoint: a concurrent insert must not spoil the caller's
            conn.execute(
                insert(source_health).values(source=source, status=OK, tracked_since=now, **values)
            )
    except IntegrityError:
        conn.execute(update(source_health).where(source_health.c.source == source).values(values))
    return reason
