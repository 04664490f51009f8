"""news-monitor: watches news sources, groups copies into stories, matches analyst rules, alerts."""

__version__ = "0.1.0"
