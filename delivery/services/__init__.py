"""Delivery services: accepting calls, sending, sweeping; every write of delivery goes here."""
