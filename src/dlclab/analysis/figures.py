"""Figures for dashboards: matplotlib (Agg) rendered to PNG bytes for ``ipywidgets.Image``,
so the page needs no JavaScript plotting library and no CDN."""
from __future__ import annotations

import io

import numpy as np


def to_png(fig, dpi: int = 90) -> bytes:
    """PNG bytes of a figure (closed afterwards). Metadata is fixed so that the same
    figure gives the same bytes."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def camera_figure(geometry, image, title: str = "", hillas=None, mask=None):
    """A camera image on its hexagonal pixels (ctapipe ``CameraDisplay``), with the Hillas
    ellipse overlaid when ``hillas`` is given and the cleaning mask highlighted."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from ctapipe.visualization import CameraDisplay

    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    disp = CameraDisplay(geometry, image=np.asarray(image, dtype=float), ax=ax, cmap="inferno",
                         title=title, show_frame=False)
    disp.add_colorbar(ax=ax, label="photo-electrons")
    if mask is not None:
        disp.highlight_pixels(mask, color="cyan", linewidth=0.6)
    if hillas is not None:
        disp.overlay_moments(hillas, with_label=False, color="lime", lw=2, n_sigma=2)
    ax.set_aspect("equal")
    return fig
