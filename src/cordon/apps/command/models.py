"""The command app's stored figures (the daily figures and the daily reports)."""
