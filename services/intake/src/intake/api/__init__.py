"""Intake's REST API for caseworkers: schemas, routes, dependencies, error mapping."""
