"""Suppliers, purchase orders, demand history and replenishment planning."""
