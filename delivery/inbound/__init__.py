"""Inbound provider webhooks: email providers' tracking webhooks (django-anymail) and
Twilio's SMS status callbacks and replies. Each authenticates as its provider
requires, then hands the event to delivery.services.provider_events."""
