"""Open and click tracking and unsubscribe links: rewriting, tokens, the machine rule, views."""
