"""ReviewShield: rights protection for shoppers harassed after an honest review."""

__version__ = "0.1.0"
