"""advisor: a retrieval-augmented advisor whose every claim is cited to its source."""

__version__ = "0.1.0"
