"""Intake's use cases: one handler each, run inside a unit of work."""
