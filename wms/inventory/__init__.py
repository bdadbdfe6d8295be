"""Warehouses, locations, products, lots, the move ledger, quants and stock levels."""
