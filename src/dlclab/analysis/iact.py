"""IACT gamma/hadron separation and energy estimation: a Hillas-parameter baseline
(ctapipe cleaning + Hillas moments + random forests) against two small CNNs (PyTorch,
CPU) trained on the same camera images, evaluated on the same test images.

Images are (event, pixel) arrays of photo-electron-like amplitudes; the camera
geometry is a ctapipe ``CameraGeometry`` (built in code by
``dlclab.instruments.taiga.iact_ctapipe_geometry``). For the CNNs the hexagonal images
are resampled onto a square grid by nearest-pixel lookup (the "oversampling" image
mapping of CTLearn), which keeps every pixel's value and needs no interpolation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

HILLAS_FEATURES = ("lg_intensity", "width_deg", "length_deg", "width_over_length", "skewness",
                   "kurtosis", "r_deg", "n_pixels")


# ---------------------------------------------------------------- Hillas baseline
def hillas_table(geometry, images: NDArray, picture_thresh: float = 8.0, boundary_thresh: float = 4.0,
                 min_pixels: int = 3):
    """Tailcut cleaning and Hillas moments for each image. Returns a DataFrame with
    :data:`HILLAS_FEATURES` plus psi/cog for drawing; images that do not survive cleaning
    get NaN and ``ok = False``."""
    import pandas as pd
    from ctapipe.image import hillas_parameters, tailcuts_clean
    from ctapipe.image.hillas import HillasParameterizationError

    rows = []
    for image in np.asarray(images, dtype=np.float64):
        mask = tailcuts_clean(geometry, image, picture_thresh=picture_thresh, boundary_thresh=boundary_thresh,
                              min_number_picture_neighbors=1)
        row = dict.fromkeys(HILLAS_FEATURES + ("x_deg", "y_deg", "psi_deg"), np.nan)
        row["n_pixels"] = int(mask.sum())
        row["ok"] = False
        if mask.sum() >= min_pixels:
            try:
                h = hillas_parameters(geometry[mask], image[mask])
            except HillasParameterizationError:
                h = None
            if h is not None and np.isfinite(h.width.value) and h.length.value > 0:
                row.update(lg_intensity=np.log10(h.intensity), width_deg=_deg(h.width), length_deg=_deg(h.length),
                           width_over_length=h.width.value / h.length.value, skewness=h.skewness,
                           kurtosis=h.kurtosis, r_deg=_deg(h.r), x_deg=_deg(h.fov_lon if hasattr(h, "fov_lon") else h.x),
                           y_deg=_deg(h.fov_lat if hasattr(h, "fov_lat") else h.y), psi_deg=h.psi.to_value("deg"),
                           ok=True)
        rows.append(row)
    return pd.DataFrame(rows)


def _deg(q) -> float:
    import astropy.units as u

    if q.unit.is_equivalent(u.deg):
        return float(q.to_value(u.deg))
    return float(q.value)  # metres in the camera frame: keep the number, the name documents degrees-equivalent


def hillas_ellipse(geometry, image: NDArray, picture_thresh: float = 8.0, boundary_thresh: float = 4.0):
    """(mask, HillasParametersContainer or None) for one image, for event displays."""
    from ctapipe.image import hillas_parameters, tailcuts_clean

    mask = tailcuts_clean(geometry, np.asarray(image, dtype=np.float64), picture_thresh=picture_thresh,
                          boundary_thresh=boundary_thresh, min_number_picture_neighbors=1)
    if mask.sum() < 3:
        return mask, None
    try:
        return mask, hillas_parameters(geometry[mask], np.asarray(image, dtype=np.float64)[mask])
    except Exception:  # noqa: BLE001 - degenerate images have no ellipse
        return mask, None


def _feature_matrix(table) -> NDArray[np.float64]:
    x = table[list(HILLAS_FEATURES)].to_numpy(dtype=np.float64)
    return np.nan_to_num(x, nan=-1.0)


def train_hillas_baseline(table, is_gamma: ArrayLike, lg_energy_true: ArrayLike, seed: int,
                          n_trees: int = 100):
    """Random forests on the Hillas parameters: a classifier (gammaness) and a regressor
    (lg E, trained on gammas only, as the energy estimate is used for gamma candidates)."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    x = _feature_matrix(table)
    y = np.asarray(is_gamma, dtype=int)
    clf = RandomForestClassifier(n_estimators=n_trees, min_samples_leaf=3, random_state=seed, n_jobs=1)
    clf.fit(x, y)
    g = y == 1
    reg = RandomForestRegressor(n_estimators=n_trees, min_samples_leaf=3, random_state=seed, n_jobs=1)
    reg.fit(x[g], np.asarray(lg_energy_true)[g])
    return clf, reg


def predict_hillas_baseline(models, table) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    clf, reg = models
    x = _feature_matrix(table)
    return clf.predict_proba(x)[:, 1], reg.predict(x)


# ---------------------------------------------------------------- image mapping
@dataclass(frozen=True)
class SquareGridMapping:
    """Index of the camera pixel nearest to each cell of an ``n x n`` grid (-1 = outside)."""

    n: int
    index: NDArray[np.int64]

    def map(self, images: NDArray) -> NDArray[np.float32]:
        images = np.asarray(images, dtype=np.float32)
        padded = np.concatenate([images, np.zeros((len(images), 1), np.float32)], axis=1)
        idx = np.where(self.index < 0, images.shape[1], self.index)
        return padded[:, idx].reshape(len(images), self.n, self.n)


def square_grid_mapping(pix_x: ArrayLike, pix_y: ArrayLike, n: int = 32) -> SquareGridMapping:
    """Nearest-pixel map of a hexagonal camera onto ``n x n`` cells (cells farther than
    one pixel pitch from every pixel stay empty)."""
    from scipy.spatial import cKDTree

    x = np.asarray(pix_x, dtype=np.float64)
    y = np.asarray(pix_y, dtype=np.float64)
    tree = cKDTree(np.column_stack([x, y]))
    pitch = float(np.median(tree.query(np.column_stack([x, y]), k=2)[0][:, 1]))
    half = max(np.abs(x).max(), np.abs(y).max()) + 0.5 * pitch
    c = np.linspace(-half, half, n)
    gx, gy = np.meshgrid(c, c)
    d, i = tree.query(np.column_stack([gx.ravel(), gy.ravel()]))
    return SquareGridMapping(n, np.where(d <= pitch, i, -1).astype(np.int64))


def normalise_images(images: NDArray) -> NDArray[np.float32]:
    """log1p of the positive amplitudes: tames the dynamic range of bright showers."""
    return np.log1p(np.clip(np.asarray(images, dtype=np.float32), 0.0, None))


# ---------------------------------------------------------------- CNNs
def _torch_setup(seed: int, threads: int) -> None:
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def make_cnn(n_outputs: int = 1, width: int = 16):
    """A small CNN for (1, n, n) camera images: three conv blocks, pooling to 4 x 4 (keeps
    where the light is: gamma images point to the source at the camera centre), a head."""
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 4 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
        nn.Flatten(), nn.Linear(4 * width * 16, 32), nn.ReLU(), nn.Linear(32, n_outputs))


@dataclass
class TrainedCNN:
    model: object
    loss_history: list[float]
    target_mean: float = 0.0
    target_scale: float = 1.0


def train_cnn(images: NDArray, target: ArrayLike, task: str, seed: int, epochs: int = 10,
              batch_size: int = 64, learning_rate: float = 2e-3, width: int = 16, threads: int = 1,
              progress: bool = False) -> TrainedCNN:
    """Train a CNN on square-grid images. ``task`` is ``"classify"`` (target 0/1, BCE loss)
    or ``"regress"`` (target lg E, MSE on the standardised target). Seeded and with
    deterministic algorithms, so the same inputs give the same network."""
    import torch

    _torch_setup(seed, threads)
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)[:, None])
    t = np.asarray(target, dtype=np.float32)
    mean, scale = (0.0, 1.0) if task == "classify" else (float(t.mean()), float(t.std() or 1.0))
    y = torch.from_numpy(((t - mean) / scale).astype(np.float32))[:, None]
    model = make_cnn(1, width)
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = torch.nn.BCEWithLogitsLoss() if task == "classify" else torch.nn.MSELoss()
    gen = torch.Generator().manual_seed(seed)
    history = []
    epochs_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm
        epochs_iter = tqdm(epochs_iter, desc=f"CNN {task}")
    for _ in epochs_iter:
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), batch_size):
            b = perm[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(x[b]), y[b])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        history.append(total / len(x))
    return TrainedCNN(model, history, mean, scale)


def predict_cnn(trained: TrainedCNN, images: NDArray, task: str, batch_size: int = 256) -> NDArray[np.float64]:
    """Gammaness (sigmoid) or lg E for each image."""
    import torch

    model = trained.model
    model.eval()
    out = []
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)[:, None])
        for start in range(0, len(x), batch_size):
            out.append(model(x[start:start + batch_size])[:, 0].numpy())
    y = np.concatenate(out).astype(np.float64) if out else np.zeros(0)
    if task == "classify":
        return 1.0 / (1.0 + np.exp(-y))
    return y * trained.target_scale + trained.target_mean


# ---------------------------------------------------------------- metrics
@dataclass(frozen=True)
class SeparationMetrics:
    roc_auc: float
    gamma_efficiency: float
    hadron_efficiency: float
    q_factor: float
    q_factor_is_lower_limit: bool
    threshold: float

    def as_dict(self) -> dict:
        return dict(vars(self))


def separation_metrics(score: ArrayLike, is_gamma: ArrayLike, gamma_efficiency: float = 0.5) -> SeparationMetrics:
    """ROC AUC and the quality factor Q = eps_gamma / sqrt(eps_hadron) at the score cut that
    keeps ``gamma_efficiency`` of the gammas. With no hadron left, eps_hadron is set to
    1/N_hadron and Q is flagged as a lower limit."""
    from sklearn.metrics import roc_auc_score

    s = np.asarray(score, dtype=np.float64)
    g = np.asarray(is_gamma, dtype=bool)
    cut = float(np.quantile(s[g], 1.0 - gamma_efficiency))
    eps_g = float(np.mean(s[g] >= cut))
    n_h = int((~g).sum())
    eps_h = float(np.mean(s[~g] >= cut))
    lower = eps_h == 0.0
    q = eps_g / np.sqrt(eps_h if not lower else 1.0 / n_h)
    return SeparationMetrics(float(roc_auc_score(g, s)), eps_g, eps_h, float(q), bool(lower), cut)


def energy_performance(lg_true: ArrayLike, lg_reco: ArrayLike, lg_edges: ArrayLike):
    """Per true-energy bin: bias = median of (E_reco - E_true)/E_true, resolution = 68%
    containment of |relative error - bias|, with the number of events."""
    import pandas as pd

    t = np.asarray(lg_true, dtype=np.float64)
    rel = 10.0 ** (np.asarray(lg_reco, dtype=np.float64) - t) - 1.0
    edges = np.asarray(lg_edges, dtype=np.float64)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (t >= lo) & (t < hi)
        n = int(sel.sum())
        bias = float(np.median(rel[sel])) if n else np.nan
        res = float(np.quantile(np.abs(rel[sel] - bias), 0.68)) if n >= 3 else np.nan
        rows.append({"lg_energy_low_eV": lo, "lg_energy_high_eV": hi, "energy_eV": 10.0 ** (0.5 * (lo + hi)),
                     "n_events": n, "energy_bias": bias, "energy_resolution": res})
    return pd.DataFrame(rows)
