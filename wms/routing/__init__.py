"""Delivery allocation (which warehouse ships what), vehicle routing and pick paths."""
