"""Outbound webhooks: message events, signed the Standard Webhooks way, sent to the
endpoints configured in the admin, retried, logged, and disabled when they keep failing.

``queue`` turns happenings into deliveries with their JSON (in the transaction that
records them), ``endpoints`` keeps the list of enabled endpoints, ``signing`` signs, ``targets`` keeps requests to
public addresses, ``sending`` tries and retries them. docs/webhooks.md is the
receiver's side.
"""
