"""Profile and audience services: every write to people goes through these functions."""
