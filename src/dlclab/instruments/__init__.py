"""Instrument descriptions: sites, detector layouts, camera geometries."""
