"""Simulators that write both experiments' data in their real formats."""
