"""Intake's domain: cases and the records filed on them. Standard library only."""
