"""TAIGA layouts and the IACT camera geometry."""
from __future__ import annotations

import numpy as np

from dlclab.instruments import taiga as layout


def test_iact_camera_has_560_hexagonal_pixels_of_036_deg():
    geom = layout.iact_camera_geometry()
    assert len(geom.pixel_id) == 560 and np.array_equal(geom.pixel_id, np.arange(560))
    d = np.hypot(geom.x_deg[:, None] - geom.x_deg[None], geom.y_deg[:, None] - geom.y_deg[None])
    np.fill_diagonal(d, np.inf)
    assert np.allclose(d.min(axis=1), 0.36)          # every pixel has a neighbour at 0.36 deg
    assert 8.5 < geom.field_of_view_deg < 10.0        # "about 10 deg"
    assert 4.0 < np.hypot(geom.x_deg, geom.y_deg).max() < 5.0
    # focal plane: 4.75 m focal length -> about 30 mm pixels
    spacing_m = np.hypot(geom.x_m[1] - geom.x_m[0], geom.y_m[1] - geom.y_m[0])
    assert abs(spacing_m - 4.75 * np.tan(np.deg2rad(0.36))) < 1e-4


def test_iact_neighbours_are_symmetric_and_hexagonal():
    geom = layout.iact_camera_geometry()
    n_nb = (geom.neighbors >= 0).sum(axis=1)
    assert n_nb.max() == 6 and n_nb.min() >= 2
    assert (n_nb == 6).sum() > 450  # all but the rim
    pairs = {tuple(p) for p in geom.neighbor_pairs()}
    for p in range(560):
        for q in geom.neighbors[p][geom.neighbors[p] >= 0]:
            assert (min(p, q), max(p, q)) in pairs
            assert p in geom.neighbors[q]


def test_channel_map_covers_each_pixel_once_on_18_boards_of_32():
    table = layout.channel_to_pixel()
    assert table.shape == (18, 32)
    used = table[table >= 0]
    assert len(used) == 560 and np.array_equal(np.sort(used), np.arange(560))
    back = layout.pixel_to_channel()
    assert np.array_equal(table[back[:, 0], back[:, 1]], np.arange(560))


def test_ctapipe_geometry_is_built_offline_and_agrees():
    import astropy.units as u

    cam = layout.iact_ctapipe_geometry()
    geom = layout.iact_camera_geometry()
    assert cam.n_pixels == 560
    assert np.allclose(cam.pix_x.to_value(u.m), geom.x_m)
    # ctapipe finds the same neighbours from the pixel positions
    assert np.array_equal(cam.neighbor_matrix.sum(axis=1), (geom.neighbors >= 0).sum(axis=1))
    tel = layout.iact_ctapipe_geometry("telescope")
    assert np.allclose(tel.pix_y.to_value(u.deg), geom.y_deg)


def test_tunka133_layout_25_clusters_of_7_about_1_km2_inner():
    det = layout.tunka133_detector_positions()
    assert det.shape == (25, 7, 2)
    inner = det[:19].reshape(-1, 2)
    radius = np.hypot(*inner.T).max()
    assert 0.8e6 < np.pi * radius ** 2 < 1.3e6
    # 85 m from each cluster's centre to its six outer detectors
    assert np.allclose(np.hypot(*(det[:, 1:] - det[:, :1]).transpose(2, 0, 1)), 85.0)
    outer = np.hypot(*layout.tunka133_cluster_centres()[19:].T)
    assert np.allclose(outer, 950.0)
    assert layout.tunka_grande_station_positions().shape == (19, 2)
    assert layout.hiscore_station_positions().shape == (28, 2)
    assert layout.tunka_rex_antenna_positions().shape == (25, 2, 2)
