"""mwdata: the Moveworks Data API turned into a lasting analytics store."""

__version__ = "0.1.0"
