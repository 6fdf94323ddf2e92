"""Reads of zones."""
