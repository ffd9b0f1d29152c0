"""Astroparticle Data Life Cycle Lab: KASCADE (KCDC) and TAIGA data side by side."""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "catalog"]


def catalog(**user_parameters):
    """Open the lab's top Intake catalogue (KCDC and TAIGA sub-catalogues).

    The location comes from :mod:`dlclab.config`, so a notebook needs no paths.
    Keyword arguments are Intake user parameters (``release=...``).
    """
    from dlclab.catalog import open_lab_catalog

    return open_lab_catalog(**user_parameters)
