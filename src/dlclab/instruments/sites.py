"""Observatory sites (DOMAIN.md). astropy's EarthLocation.of_site downloads; these do not."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    name: str
    latitude_deg: float
    longitude_deg: float
    height_m: float

    def earth_location(self):
        """The site as an astropy EarthLocation (built offline from geodetic coordinates)."""
        import astropy.units as u
        from astropy.coordinates import EarthLocation

        return EarthLocation.from_geodetic(
            lon=self.longitude_deg * u.deg, lat=self.latitude_deg * u.deg, height=self.height_m * u.m)


KASCADE = Site("KASCADE (KIT Campus North)", 49.0994, 8.4378, 110.0)
TUNKA = Site("Tunka valley (TAIGA)", 51.81, 103.07, 675.0)
