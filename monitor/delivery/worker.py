"""The delivery worker: one cycle of claim -> plan -> send -> record, plus operator notices.

`deliver_due()` is the whole pipeline in one short function. Rows are leased (`claims`), storm
control and digests decide what goes out now (`plan`), then sends go out in waves of
`concurrency`: before each wave the lease is renewed (so a long cycle never outlives it, and a row
another replica took over is not sent), messages are built from the alerts (`messages`), sends
run in threads under a hard deadline (`deadline`), and each outcome goes through the one state
machine in `record`, whose writes are conditioned on our lease token. "Sent" is written only
after the notifier returned; a crash between the two repeats the send with the same idempotency
key after the lease expires.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, update

from monitor.delivery import claims
from monitor.delivery.deadline import DeadlineRunner
from monitor.delivery.messages import CarriersLookup, messages_for, no_carriers, story_updates
from monitor.delivery.notices import send_notices
from monitor.delivery.plan import Due, Plan, RateLimiter, Send, make_plan
from monitor.delivery.record import (
    Recorder,
    RetryPolicy,
    fail_disabled,
    record_failure,
    record_success,
)
from monitor.delivery.settings import DeliverySettings
from monitor.delivery.tables import delivery_progress
from monitor.errors import DeliveryError
from monitor.notify.base import AlertBatch, BatchNotifier, ChannelPolicy, Notifier
from monitor.storage.db import READ_ONLY

log = logging.getLogger(__name__)

__all__ = ["DeliveryReport", "DeliveryWorker", "RetryPolicy"]


@dataclass
class DeliveryReport:
    """What one cycle did (counts are deliveries, `messages` are messages sent)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    lost: int = 0  # leased rows another replica took over before we sent them (not sent)
    messages: int = 0
    notices: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Prepared:
    send: Send
    action: Callable[[], None]
    carriers_shown: dict[int, int]
    update_ids: dict[int, int]  # delivery id -> carriers shown, for digest updates


class DeliveryWorker:
    """Delivers due alerts to the configured notifiers."""

    def __init__(
        self,
        engine: Engine,
        notifiers: Mapping[str, Notifier],
        *,
        clock: Callable[[], datetime],
        owner: str,
        carriers: CarriersLookup = no_carriers,
        settings: DeliverySettings | None = None,
        policy: RetryPolicy | None = None,
        lease: timedelta | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or DeliverySettings()
        s = self.settings
        self._engine = engine
        self._notifiers = notifiers
        self._clock = clock
        self._owner = owner
        self._carriers = carriers
        self._lease = lease or s.lease
        if self._lease < 2 * s.attempt_deadline:
            raise ValueError("the lease must be at least twice attempt_deadline")
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._recorder = Recorder(
            policy=policy or RetryPolicy(s.retry_base, s.retry_cap, s.give_up_after),
            rng=self._rng, operator_channels=s.operator_channels,
        )
        self._runner = DeadlineRunner(s.attempt_deadline.total_seconds(), s.concurrency)
        self._limiter = RateLimiter()

    def deliver_due(self, limit: int | None = None) -> DeliveryReport:
        """Send every pending delivery whose time has come (at most `limit` per cycle)."""
        report = DeliveryReport()
        now = self._clock()
        token = f"{self._owner}:{uuid.uuid4().hex[:12]}"
        due = claims.claim(self._engine, token, now, self._lease, limit or self.settings.batch_size)
        if due:
            plan = self._plan(due, token, now)
            claims.postpone(self._engine, token, plan.deferred)
            report.deferred = len(plan.deferred)
            size = self.settings.concurrency
            for start in range(0, len(plan.sends), size):
                self._wave(plan.sends[start:start + size], token, now, report)
        report.notices = send_notices(self._engine, self._notifiers, self._clock(),
                                      self._runner.run_one, self._rng)
        return report

    def _wave(self, sends: Sequence[Send], token: str, now: datetime,
              report: DeliveryReport) -> None:
        """Renew the lease, then send at most `concurrency` messages and record each outcome.

        A wave lasts at most `attempt_deadline` and the lease is at least twice that, so the
        rows stay ours from the renewal to the recording, however many waves the cycle has.
        """
        held = claims.renew(self._engine, token, self._clock(), self._lease)
        ours: list[Send] = []
        lost: list[int] = []
        for send in sends:
            ids = [d.delivery_id for d in send.items]
            if all(i in held for i in ids):
                ours.append(send)
            else:
                lost += ids
        if lost:
            claims.release(self._engine, token, lost)  # only the ones still ours are touched
            report.lost += len(lost)
            log.warning("lease lost before sending; %d delivery(ies) not sent by this worker",
                        len(lost))
        prepared = [self._prepare(send, now) for send in ours]
        outcomes = self._runner.run_many([(p.action, p.send.channel) for p in prepared])
        for item, error in zip(prepared, outcomes, strict=True):
            self._record(item, error, token, report)

    def _plan(self, due: list[Due], token: str, now: datetime) -> Plan:
        with self._engine.begin() as conn:
            disabled = claims.disabled_channels(conn)
            for channel, reason in disabled.items():
                fail_disabled(conn, [d for d in due if d.channel == channel], token, now, reason)
            due = [d for d in due if d.channel not in disabled]
            last = claims.last_sent(conn, [(d.channel, d.rule) for d in due])
        return make_plan(due, now=now, policies=self._policies(), batchable=self._batchable(),
                         grouping_window=self.settings.grouping_window, last_sent=last,
                         limiter=self._limiter)

    def _policies(self) -> dict[str, ChannelPolicy]:
        result = {}
        for name, notifier in self._notifiers.items():
            policy = notifier.policy if isinstance(notifier, BatchNotifier) else ChannelPolicy()
            if name in self.settings.rate_limits:
                policy = ChannelPolicy(policy.digest, self.settings.rate_limits[name], policy.burst)
            result[name] = policy
        return result

    def _batchable(self) -> frozenset[str]:
        return frozenset(n for n, x in self._notifiers.items() if isinstance(x, BatchNotifier))

    def _prepare(self, send: Send, now: datetime) -> _Prepared:
        notifier = self._notifiers.get(send.channel)
        with self._engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            alerts = messages_for(conn, [d.alert_id for d in send.items], self._carriers)
            updates = [] if send.kind != "digest" else story_updates(
                conn, channel=send.channel, rule=send.items[0].rule,
                since=now - self.settings.update_window, carriers=self._carriers)
        shown = {a.alert_id: len(a.also_carried_by) for a in alerts}
        update_ids = {delivery_id: len(m.also_carried_by) for delivery_id, m in updates}
        key = send.key

        def action() -> None:
            if notifier is None:
                raise DeliveryError(f"channel {send.channel!r} is not configured", retryable=False)
            if send.kind == "single":
                notifier.send(alerts[0], idempotency_key=key)
                return
            assert isinstance(notifier, BatchNotifier)
            batch = AlertBatch(send.kind, send.channel, tuple(alerts), tuple(m for _, m in updates))
            notifier.send_batch(batch, idempotency_key=key)

        return _Prepared(send, action, shown, update_ids)

    def _record(self, item: _Prepared, error: DeliveryError | None, token: str,
                report: DeliveryReport) -> None:
        send, now = item.send, self._clock()
        with self._engine.begin() as conn:
            if error is None:
                report.sent += record_success(conn, send, token, now, item.carriers_shown)
                report.messages += 1
                for delivery_id, count in item.update_ids.items():
                    conn.execute(update(delivery_progress)
                                 .where(delivery_progress.c.delivery_id == delivery_id)
                                 .values(carriers_shown=count))
                log.info("alert delivered channel=%s alert=%s attempt=%d",
                         send.channel, ",".join(str(d.alert_id) for d in send.items),
                         max(d.attempts for d in send.items) + 1)
                return
            counts = record_failure(conn, send, token, now, error, self._recorder)
        report.retrying += counts["retrying"]
        report.dead += counts["dead"]
        report.failed += counts["failed"]
        report.errors.append(str(error))
        level = logging.WARNING if counts["retrying"] else logging.ERROR
        log.log(level, "delivery failed channel=%s alert=%s attempt=%d error=%s",
                send.channel, ",".join(str(d.alert_id) for d in send.items),
                max(d.attempts for d in send.items) + 1, error)
