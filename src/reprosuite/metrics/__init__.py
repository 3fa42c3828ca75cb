"""Metrics shared by studies (torch-free: they run in the metric, figure and claim jobs)."""
