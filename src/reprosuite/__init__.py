"""reprosuite: reproduce a suite of deep-learning papers end to end and check their claims."""

__version__ = "0.1.0"
