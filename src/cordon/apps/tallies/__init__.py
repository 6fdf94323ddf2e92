"""Kept counts: the open-items board's figures per jurisdiction node (every level, rolled up from where the
items lie) and district, recounted by the worker every few seconds (like a materialised view) instead of per
request, and reconciled each night."""
