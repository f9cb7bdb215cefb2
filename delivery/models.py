"""Executions, messages and delivery records arrive with the trigger issue."""
