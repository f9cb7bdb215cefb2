"""One ``Transport`` per channel (email, SMS, push), chosen by ``transport_for``."""
