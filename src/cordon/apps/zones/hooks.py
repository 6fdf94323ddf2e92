from . import selectors  # noqa: F401
