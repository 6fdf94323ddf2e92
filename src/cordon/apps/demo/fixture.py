"""Placeholder until the demo fixture lands (being written now)."""
