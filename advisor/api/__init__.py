"""HTTP API: create_app(settings) builds the FastAPI app; routes translate HTTP and call the Advisor."""

from advisor.api.app import create_app

__all__ = ["create_app"]
