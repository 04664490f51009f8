"""Work-stage settings (`settings.work` in feeds.yaml): the budget of one article in a worker.

Every new article is extracted, matched and fingerprinted in a worker process. An article that
uses more than `cpu_seconds` of CPU, runs longer than `wall_seconds`, or allocates more than
`memory` is stopped (its worker is killed and replaced) and recorded as skipped with the reason;
the other articles flow on. The number of workers is `settings.extract_workers`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from monitor.config.types import Size


class WorkSettings(BaseModel):
    """Per-article budgets of the worker processes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="CPU time one article may use in its worker"
    )
    wall_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="wall-clock time one article may take"
    )
    memory: Size = Field(
        default=512 * 2**20,
        ge=16 * 2**20,
        description="memory one article may allocate beyond the worker's own (RLIMIT_AS)",
    )
