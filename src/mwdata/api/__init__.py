"""Data API client: auth (API key / OAuth2), shared pacing + retries, tolerant OData envelope parsing."""

from mwdata.api.client import ApiClient, Page, RequestStats

__all__ = ["ApiClient", "Page", "RequestStats"]
