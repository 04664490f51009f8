"""The pipeline: sources -> fetch -> read -> work (extract, match) -> write (store, group, alert).

`flow` chains the stages and shows them in one place; `stages` holds the pure steps, `work` the
worker-process stage, `write` the single group-commit writer, `leases` the lease keeper.
"""

from monitor.pipeline.flow import Pipeline, PipelineDeps
from monitor.pipeline.model import AlertRoute, NoMetrics, PipelineMetrics, SourceOutcome
from monitor.pipeline.work import PoolWork, WorkStage

__all__ = [
    "AlertRoute",
    "NoMetrics",
    "Pipeline",
    "PipelineDeps",
    "PipelineMetrics",
    "PoolWork",
    "SourceOutcome",
    "WorkStage",
]
