"""The zone pages."""
