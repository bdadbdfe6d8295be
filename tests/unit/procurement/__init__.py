"""Unit tests of procurement: replenishment planning on plain values."""
