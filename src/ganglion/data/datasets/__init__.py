"""Datasets: ``load_iris`` reads the 150-row iris table shipped inside the package (no download)."""

from .iris import load_iris
