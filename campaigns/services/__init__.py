"""Campaign services: every write to campaigns goes through these functions."""
