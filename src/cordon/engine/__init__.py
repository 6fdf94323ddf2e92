"""Pure computation for Cordon: no Django, no ORM objects, typed under mypy --strict.

Apps convert their rows into the plain values these modules take (docs/architecture.md).
"""
