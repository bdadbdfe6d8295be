"""The storefront side of the webhooks: Standard Webhooks signing and a reference consumer.

``signing`` imports nothing from ``wms``, so a storefront can copy it as it is.
"""
