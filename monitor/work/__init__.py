"""The work stage: extraction, language, rule matching and dedup fingerprints of each new
article, in worker processes that each article may use only within its budget.

`WorkPool(ruleset, settings).submit(WorkJob) -> Future[WorkResult]`, and `submit_feed(FeedJob)
-> Future[FeedResult]` for a feed document to parse; see `pool` for the process model, `article`
for what is done to one article, `feeds` for a feed, `settings` for the budgets.
"""

from monitor.work.feeds import FeedJob, FeedResult
from monitor.work.model import MatchedRule, SourceMeta, WorkJob, WorkResult
from monitor.work.pool import PoolStats, WorkPool, WorkPoolClosed
from monitor.work.settings import WorkSettings

__all__ = [
    "FeedJob",
    "FeedResult",
    "MatchedRule",
    "PoolStats",
    "SourceMeta",
    "WorkJob",
    "WorkPool",
    "WorkPoolClosed",
    "WorkResult",
    "WorkSettings",
]
