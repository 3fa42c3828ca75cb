"""Datasets shipped by packages or generated, and modular-arithmetic tasks."""
