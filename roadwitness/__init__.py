"""roadwitness: camera evidence of traffic violations, turned into cases an officer can confirm."""

from settings import VERSION as __version__

__all__ = ["__version__"]
