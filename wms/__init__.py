"""Warehouse and supply-chain management: ledger-backed stock, planning, routing and quality."""

__version__ = "0.1.0"
