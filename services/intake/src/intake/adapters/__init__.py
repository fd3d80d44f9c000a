"""Intake's adapters: database tables, repositories (sealing personal data), Kafka wiring."""
