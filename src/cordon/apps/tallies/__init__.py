"""Kept counts: the open-items board's figures per district, recounted by the worker every few seconds (like a
materialised view) instead of per request, and reconciled each night."""
