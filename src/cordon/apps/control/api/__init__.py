"""API of close-contact control: the operations (``operations.py``) on one router, answering with the schemas
of ``schemas.py``."""

from .operations import router

__all__ = ["router"]
