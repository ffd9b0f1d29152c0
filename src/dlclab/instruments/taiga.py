"""TAIGA / Tunka detector layouts and the TAIGA-IACT camera.

Coordinates: metres in the array frame, ``x`` towards geographic east, ``y`` towards
north, ``z`` up, origin at the centre of the Tunka-133 array (cluster 1). The real
survey positions are not public in machine-readable form; the layouts below are
documented approximations of the published ones (Prosin et al., NIM A 756 (2014) 94;
Bezyazeekov et al., NIM A 802 (2015) 89; Budnev et al., JINST 15 (2020) C09031;
Tluczykont et al., Astropart. Phys. 56 (2014) 42) and are kept here, in one place,
so that they are easy to correct.

Tunka-133
    25 clusters of 7 optical detectors (20 cm PMTs): one detector at the cluster
    centre and six on a hexagon of 85 m radius. 19 inner clusters sit on a hexagonal
    lattice of 235 m spacing (centre + 2 rings, about 1 km^2 inside the outermost
    detectors), 6 outer clusters at 950 m from the centre (the 2011 extension).
    Cluster 1 is the centre, 2-7 the first ring, 8-19 the second, 20-25 the outer ones.
    FADC channels of a cluster (32, one data package each): PMT slot ``k`` (0-7) owns
    channels ``4k .. 4k+3``: ``4k`` anode (high gain), ``4k+2`` dynode (low gain, 1/25),
    ``4k+1`` and ``4k+3`` not connected. Slot 7 has no PMT. This mirrors the real
    sample ``t133.001``, where pulses appear only in channels 4k and (25x smaller) 4k+2.
Tunka-Rex
    Two SALLA radio antennas a cluster, 40 m west and east of the cluster centre, each
    with two perpendicular arms (north-south, east-west): channels 0, 1 = antenna A
    (NS, EW), channels 2, 3 = antenna B (NS, EW).
Tunka-Grande
    19 scintillator stations, one beside each inner Tunka-133 cluster (30 m north of
    its centre), station number = cluster number. Channels 0-3: surface counters
    (3 counters of 0.64 m^2 per channel), channels 4-7: underground muon counters
    (2 counters of 0.8 m^2 per channel, muon threshold about 1 GeV).
TAIGA-HiSCORE
    28 wide-angle Cherenkov stations on a staggered grid of 106 m spacing (the first
    0.25 km^2 stage); each station has 4 PMTs (8 inch) with Winston cones, 0.5 m^2
    light collection area in total. Blocks 0-7: PMT ``k`` anode (block 2k) and dynode
    (block 2k+1), block 8: analogue sum of the anodes (trigger channel).
TAIGA-IACT
    The first camera: 560 hexagonal pixels of 0.36 deg (about 30 mm Winston cones at
    4.75 m focal length), 4.3 m reflector, about 9-10 deg field of view, read out by 18
    MAROC boards of 32 channels (576 channels, 560 connected).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

# --------------------------------------------------------------------------- Tunka-133
TUNKA133_DETECTOR_SPACING_M = 85.0
TUNKA133_CLUSTER_SPACING_M = 235.0
TUNKA133_OUTER_RADIUS_M = 950.0
TUNKA133_N_CLUSTERS = 25
TUNKA133_PMTS_PER_CLUSTER = 7
TUNKA133_CHANNELS = 32
#: channel of the anode (high gain) and dynode (low gain) of PMT slot k
TUNKA133_ANODE_CHANNEL = np.arange(TUNKA133_PMTS_PER_CLUSTER) * 4
TUNKA133_DYNODE_CHANNEL = np.arange(TUNKA133_PMTS_PER_CLUSTER) * 4 + 2
#: light collection of one optical detector (20 cm PMT), cm^2 x (QE-weighted eV band):
#: N_pe = Q [photons cm^-2 eV^-1] * cos(zenith) * this
TUNKA133_PMT_RESPONSE_CM2_EV = 100.0
#: geometric area of the inner array (19 clusters), the area used for the flux
TUNKA133_INNER_AREA_M2 = 1.0e6


def _hex_lattice(n_rings: int, spacing: float) -> NDArray[np.float64]:
    """Points of a hexagonal lattice: centre first, then ring by ring (counter-clockwise)."""
    points = [(0.0, 0.0)]
    dirs = [np.array([np.cos(np.deg2rad(a)), np.sin(np.deg2rad(a))]) for a in range(0, 360, 60)]
    for ring in range(1, n_rings + 1):
        p = ring * dirs[4] * spacing  # start at the lower-left corner, walk the 6 sides
        for side in range(6):
            for _ in range(ring):
                points.append((p[0], p[1]))
                p = p + dirs[side] * spacing
    return np.array(points)


@lru_cache(maxsize=1)
def tunka133_cluster_centres() -> NDArray[np.float64]:
    """Cluster centres (25, 2) in m; row ``i`` is cluster number ``i + 1``."""
    inner = _hex_lattice(2, TUNKA133_CLUSTER_SPACING_M)
    ang = np.deg2rad(30.0 + 60.0 * np.arange(6))
    outer = TUNKA133_OUTER_RADIUS_M * np.column_stack([np.cos(ang), np.sin(ang)])
    return np.vstack([inner, outer])


@lru_cache(maxsize=1)
def tunka133_detector_positions() -> NDArray[np.float64]:
    """Optical detector positions (25, 7, 2) in m: [cluster-1, PMT slot, (x, y)]."""
    ang = np.deg2rad(60.0 * np.arange(6))
    offsets = np.vstack([[0.0, 0.0],
                         TUNKA133_DETECTOR_SPACING_M * np.column_stack([np.cos(ang), np.sin(ang)])])
    return tunka133_cluster_centres()[:, None, :] + offsets[None, :, :]


# --------------------------------------------------------------------------- Tunka-Rex
TUNKA_REX_ANTENNA_OFFSET_M = 40.0


@lru_cache(maxsize=1)
def tunka_rex_antenna_positions() -> NDArray[np.float64]:
    """Antenna positions (25, 2, 2) in m: [cluster-1, antenna A/B, (x, y)]."""
    off = np.array([[-TUNKA_REX_ANTENNA_OFFSET_M, 0.0], [TUNKA_REX_ANTENNA_OFFSET_M, 0.0]])
    return tunka133_cluster_centres()[:, None, :] + off[None, :, :]


# ------------------------------------------------------------------------ Tunka-Grande
TUNKA_GRANDE_N_STATIONS = 19
TUNKA_GRANDE_SURFACE_AREA_M2 = 3 * 0.64   # a surface channel (3 counters)
TUNKA_GRANDE_UNDERGROUND_AREA_M2 = 2 * 0.8  # an underground channel (2 counters)


@lru_cache(maxsize=1)
def tunka_grande_station_positions() -> NDArray[np.float64]:
    """Station positions (19, 2) in m; row ``i`` is station number ``i + 1``."""
    return tunka133_cluster_centres()[:TUNKA_GRANDE_N_STATIONS] + np.array([0.0, 30.0])


# ----------------------------------------------------------------------- TAIGA-HiSCORE
HISCORE_N_STATIONS = 28
HISCORE_SPACING_M = 106.0
HISCORE_COLLECTION_AREA_M2 = 0.5


@lru_cache(maxsize=1)
def hiscore_station_positions() -> NDArray[np.float64]:
    """Station positions (28, 2) in m: 4 rows of 7, every other row shifted by half a
    spacing; row ``i`` is station number ``i + 1``."""
    rows, cols = 4, 7
    pts = []
    for r in range(rows):
        for c in range(cols):
            pts.append(((c - (cols - 1) / 2 + 0.5 * (r % 2)) * HISCORE_SPACING_M,
                        (r - (rows - 1) / 2) * HISCORE_SPACING_M * np.sqrt(3) / 2))
    return np.array(pts)


# -------------------------------------------------------------------------- TAIGA-IACT
IACT_N_PIXELS = 560
IACT_PIXEL_SPACING_DEG = 0.36
IACT_FOCAL_LENGTH_M = 4.75
IACT_MIRROR_DIAMETER_M = 4.3
IACT_N_BOARDS = 18
IACT_CHANNELS_PER_BOARD = 32
#: telescope position in the array frame (m)
IACT_POSITION_M = (-100.0, 200.0)


@dataclass(frozen=True)
class IactCameraGeometry:
    """Pixel geometry of the first TAIGA-IACT camera.

    ``x_deg``/``y_deg``: pixel centres in the field of view (deg), ``x_m``/``y_m`` on the
    focal plane (m, ``f tan``), ``pixel_id`` 0..559 (from the centre outwards),
    ``neighbors``: (560, 6) pixel ids of the hexagonal neighbours, -1 padded at the edge.
    """

    pixel_id: NDArray[np.int32]
    x_deg: NDArray[np.float64]
    y_deg: NDArray[np.float64]
    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    neighbors: NDArray[np.int32]
    pixel_spacing_deg: float = IACT_PIXEL_SPACING_DEG
    focal_length_m: float = IACT_FOCAL_LENGTH_M

    @property
    def pixel_area_deg2(self) -> float:
        """Area of one hexagonal pixel (flat-to-flat = spacing), deg^2."""
        return float(np.sqrt(3) / 2 * self.pixel_spacing_deg ** 2)

    @property
    def pixel_area_m2(self) -> float:
        d_m = self.focal_length_m * np.tan(np.deg2rad(self.pixel_spacing_deg))
        return float(np.sqrt(3) / 2 * d_m ** 2)

    @property
    def field_of_view_deg(self) -> float:
        """Diameter of the circle with the camera's sensitive area, deg."""
        return float(2 * np.sqrt(len(self.pixel_id) * self.pixel_area_deg2 / np.pi))

    def neighbor_pairs(self) -> NDArray[np.int32]:
        """(k, 2) array of neighbouring pixel pairs, each pair once (i < j)."""
        i = np.repeat(self.pixel_id, 6)
        j = self.neighbors.ravel()
        keep = (j >= 0) & (i < j)
        return np.column_stack([i[keep], j[keep]]).astype(np.int32)


@lru_cache(maxsize=1)
def iact_camera_geometry() -> IactCameraGeometry:
    """The 560 lattice points of a hexagonal grid (spacing 0.36 deg) nearest the camera
    centre, ordered by distance then by polar angle (13 full rings = 547 pixels plus 13
    of the 14th ring, chosen by that order)."""
    s = IACT_PIXEL_SPACING_DEG
    n = 16
    i, j = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
    x = (i + 0.5 * j).ravel() * s
    y = (j * np.sqrt(3) / 2).ravel() * s
    r = np.round(np.hypot(x, y), 9)
    phi = np.round(np.mod(np.arctan2(y, x), 2 * np.pi), 9)
    order = np.lexsort((phi, r))[:IACT_N_PIXELS]
    x, y = x[order], y[order]
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    near = (d > 0.5 * s) & (d < 1.1 * s)
    neighbors = np.full((IACT_N_PIXELS, 6), -1, dtype=np.int32)
    for p in range(IACT_N_PIXELS):
        ids = np.flatnonzero(near[p])
        neighbors[p, :len(ids)] = ids
    f = IACT_FOCAL_LENGTH_M
    return IactCameraGeometry(
        pixel_id=np.arange(IACT_N_PIXELS, dtype=np.int32), x_deg=x, y_deg=y,
        x_m=f * np.tan(np.deg2rad(x)), y_m=f * np.tan(np.deg2rad(y)), neighbors=neighbors)


@lru_cache(maxsize=1)
def channel_to_pixel() -> NDArray[np.int32]:
    """(18, 32) map from (MAROC board, channel) to pixel id; -1 where no pixel is connected.

    Each board serves a 20 deg wedge of the camera (pixels sorted by polar angle, then
    split in 18 consecutive groups: boards 0-1 have 32 pixels, boards 2-17 have 31);
    inside a board the channels run from the centre outwards.
    """
    geom = iact_camera_geometry()
    phi = np.mod(np.arctan2(geom.y_deg, geom.x_deg), 2 * np.pi)
    r = np.hypot(geom.x_deg, geom.y_deg)
    by_angle = np.lexsort((r, phi))
    sizes = [32] * 2 + [31] * 16
    table = np.full((IACT_N_BOARDS, IACT_CHANNELS_PER_BOARD), -1, dtype=np.int32)
    start = 0
    for board, size in enumerate(sizes):
        pix = by_angle[start:start + size]
        pix = pix[np.argsort(r[pix], kind="stable")]
        table[board, :size] = pix
        start += size
    return table


@lru_cache(maxsize=1)
def pixel_to_channel() -> NDArray[np.int32]:
    """(560, 2) array: (board, channel) of every pixel id."""
    table = channel_to_pixel()
    out = np.empty((IACT_N_PIXELS, 2), dtype=np.int32)
    b, c = np.nonzero(table >= 0)
    out[table[b, c]] = np.column_stack([b, c])
    return out


def iact_ctapipe_geometry(frame: str = "camera"):
    """The camera as a ctapipe ``CameraGeometry``, built in code (no download).

    ``frame="camera"``: pixel positions in m on the focal plane (``CameraFrame`` with
    the 4.75 m focal length); ``frame="telescope"``: in deg (``TelescopeFrame``), the
    frame ctapipe's Hillas parametrisation works in by default.
    """
    import astropy.units as u
    from ctapipe.coordinates import CameraFrame, TelescopeFrame
    from ctapipe.instrument import CameraGeometry, PixelShape

    geom = iact_camera_geometry()
    # neighbours along x: the hexagons have flat sides left/right, i.e. pointy top
    rotation = 30.0 * u.deg
    if frame == "camera":
        return CameraGeometry(
            name="TAIGA-IACT-560", pix_id=geom.pixel_id, pix_x=geom.x_m * u.m, pix_y=geom.y_m * u.m,
            pix_area=np.full(IACT_N_PIXELS, geom.pixel_area_m2) * u.m ** 2,
            pix_type=PixelShape.HEXAGON, pix_rotation=rotation,
            frame=CameraFrame(focal_length=IACT_FOCAL_LENGTH_M * u.m))
    if frame == "telescope":
        return CameraGeometry(
            name="TAIGA-IACT-560", pix_id=geom.pixel_id, pix_x=geom.x_deg * u.deg,
            pix_y=geom.y_deg * u.deg,
            pix_area=np.full(IACT_N_PIXELS, geom.pixel_area_deg2) * u.deg ** 2,
            pix_type=PixelShape.HEXAGON, pix_rotation=rotation, frame=TelescopeFrame())
    raise ValueError(f"frame must be 'camera' or 'telescope', got {frame!r}")
