"""Kaitai Struct descriptions (.ksy) of the TAIGA raw formats: package data."""
