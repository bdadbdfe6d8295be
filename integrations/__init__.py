"""Adapters to outside systems: the storefront (webhooks) and Odoo."""
