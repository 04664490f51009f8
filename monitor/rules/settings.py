"""Matching limits (`settings.rules` in feeds.yaml): what one article may cost the rule engine.

Matching runs in time linear in the article, but a hostile or broken page can still be very long
or repeat one word thousands of times. These bounds keep the cost of one article small and say
so in the explanation when they were reached: only the first `max_words` words of title and body
are matched, only the first `max_term_occurrences` occurrences of each word, prefix or phrase are
used, and explanations keep `max_passages` passages and `max_spans` highlighted spans per clause.
`max_near_distance` is checked when rules are loaded: a wider ``NEAR/n`` is a load error.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RuleSettings(BaseModel):
    """Bounds on matching one article and on the rules that may be loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_words: int = Field(
        default=100_000,
        ge=100,
        le=10_000_000,
        description="words of title and body matched per article; the rest is ignored and noted",
    )
    max_term_occurrences: int = Field(
        default=1_000,
        ge=10,
        le=1_000_000,
        description="occurrences of one word, prefix or phrase used per article (first ones)",
    )
    max_near_distance: int = Field(
        default=1_000, ge=1, le=100_000, description="widest NEAR/n or ONEAR/n a rule may use"
    )
    max_passages: int = Field(
        default=8, ge=1, le=100, description="highlighted passages kept per explanation"
    )
    max_spans: int = Field(
        default=20, ge=1, le=10_000, description="matched spans listed per clause of an explanation"
    )


DEFAULT_RULE_SETTINGS = RuleSettings()
