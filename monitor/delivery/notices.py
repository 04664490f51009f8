"""Operator notices: telling a human, once, that alerts were dead-lettered or a channel is gone.

A notice is created in the same transaction that marks the deliveries dead, one row per operator
channel with a unique (notice_key, channel), so a crash or a second replica cannot tell twice. The
worker sends pending notices like alerts (same notifiers, key `ntc_<id>`), retrying a bounded
number of times; a notice about a notice is never created, the last resort is the log.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from monitor.delivery.outbox import FAILED, PENDING, SENT
from monitor.delivery.tables import operator_notices
from monitor.errors import DeliveryError
from monitor.notify.base import AlertMessage, Notifier, PassageView
from monitor.storage.db import READ_ONLY

log = logging.getLogger(__name__)
MAX_NOTICE_ATTEMPTS = 12
OPERATOR_RULE = "news-monitor operator notice"


def create_notice(conn: Connection, *, key: str, title: str, body: str, now: datetime,
                  operator_channels: Sequence[str]) -> None:
    """Queue a notice to every operator channel (idempotent per key and channel)."""
    if not operator_channels:
        log.error("operator notice not sent: no operator channel configured error=%s", title)
        return
    for channel in operator_channels:
        exists = conn.execute(select(operator_notices.c.id).where(
            operator_notices.c.notice_key == key[:300],
            operator_notices.c.channel == channel)).first()
        if exists is None:
            conn.execute(operator_notices.insert().values(
                notice_key=key[:300], channel=channel, title=title, body=body, created_at=now,
                state=PENDING, attempts=0, next_attempt_at=now))
    log.warning("operator notice queued channel=%s error=%s", ",".join(operator_channels), title)


def notice_message(notice_id: int, title: str, body: str, created_at: datetime) -> AlertMessage:
    return AlertMessage(
        alert_id=0, rule=OPERATOR_RULE, headline=title, url="", source="news-monitor",
        published=created_at, language=None, story_id=0, created_at=created_at,
        passages=(PassageView(text=body, highlights=(), clause="operator notice"),),
        extra={"notice_id": notice_id},
    )


def _claim(engine: Engine, notice_id: int, due: datetime, now: datetime) -> bool:
    with engine.begin() as conn:
        claimed = conn.execute(update(operator_notices).where(
            operator_notices.c.id == notice_id, operator_notices.c.state == PENDING,
            operator_notices.c.next_attempt_at == due,
        ).values(next_attempt_at=now + timedelta(minutes=10)))
        return claimed.rowcount == 1


Runner = Callable[[Callable[[], None], str], DeliveryError | None]


def send_notices(engine: Engine, notifiers: Mapping[str, Notifier], now: datetime,
                 run: Runner, rng: random.Random) -> int:
    """Send due notices; returns how many were accepted."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        rows = conn.execute(select(operator_notices).where(
            operator_notices.c.state == PENDING, operator_notices.c.next_attempt_at <= now,
        ).order_by(operator_notices.c.id).limit(50)).mappings().all()
    sent = 0
    for row in rows:
        if not _claim(engine, row["id"], row["next_attempt_at"], now):
            continue  # another replica is sending it
        notifier = notifiers.get(row["channel"])
        message = notice_message(row["id"], row["title"], row["body"], row["created_at"])
        error: DeliveryError | None
        if notifier is None:
            error = DeliveryError(f"operator channel {row['channel']} is not configured",
                                  retryable=False)
        else:
            target = notifier

            def send(target: Notifier = target, message: AlertMessage = message,
                     key: str = f"ntc_{row['id']}") -> None:
                target.send(message, idempotency_key=key)

            error = run(send, f"operator channel {row['channel']}")
        attempts = int(row["attempts"]) + 1
        if error is None:
            values: dict[str, object] = {"state": SENT, "sent_at": now, "attempts": attempts}
            sent += 1
        elif error.retryable and attempts < MAX_NOTICE_ATTEMPTS:
            delay = min(30 * 2 ** (attempts - 1), 3600) * (0.5 + rng.random() / 2)
            values = {"attempts": attempts, "last_error": str(error),
                      "next_attempt_at": now + timedelta(seconds=delay)}
        else:
            values = {"state": FAILED, "attempts": attempts, "last_error": str(error)}
            log.error("operator notice could not be delivered channel=%s error=%s notice=%s",
                      row["channel"], error, row["title"])
        with engine.begin() as conn:
            conn.execute(update(operator_notices)
                         .where(operator_notices.c.id == row["id"]).values(**values))
    return sent
