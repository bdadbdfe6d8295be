"""Outbound: reservations, orders, allocation results, pick lists, packages and shipments."""
