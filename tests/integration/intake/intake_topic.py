"""The `intake.case` topic the intake suite reads (a module of its own, so test modules import it
by a unique name whatever other test directories run in the same session)."""

from haven_shared.testing.topic_reader import TopicReader

TOPIC = "intake.case"

__all__ = ["TOPIC", "TopicReader"]
