"""Temporal workflows: one call workflow per call, one application workflow per application."""
