"""The handheld web UI: scan-first screens for warehouse staff."""
