"""Grant management for German cities' small-grants programs."""

__version__ = "0.1.0"
