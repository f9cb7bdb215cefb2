"""Admin registrations (the campaign walk-through lives in campaigns/admin/)."""
