"""roadwitness: camera evidence of traffic violations, turned into cases an officer can confirm."""

__version__ = "0.1.0"
