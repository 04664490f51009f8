"""Source health: cadence learned from history, silence/failure/placeholder states, notices.

The daemon calls `evaluate_health` every `settings.health.check_every`; the pipeline calls
`page_facts` then `observe_fetch` for each response of a source's own URL; `monitor sources`
reads `source_rows`.
"""

from monitor.health.evaluate import STATES, Transition, evaluate_health
from monitor.health.observe import observe_fetch
from monitor.health.placeholder import PageFacts, page_facts, placeholder_reason

__all__ = [
    "STATES",
    "PageFacts",
    "Transition",
    "evaluate_health",
    "observe_fetch",
    "page_facts",
    "placeholder_reason",
]
