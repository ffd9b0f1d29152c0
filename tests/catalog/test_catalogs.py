"""The Intake 2 catalogues: every entry loads, parameters are validated, the data root
is configurable."""
from __future__ import annotations

from pathlib import Path

import intake
import pytest
import yaml

import dlclab
from dlclab.catalog.parameters import ChoiceParameter, DataRootParameter, NamedChoiceParameter
from dlclab.errors import ParameterError
from dlclab.store import DataRoot, Manifest


def _releases(sample_data_root: Path, experiment: str) -> list[str]:
    return sorted(p.name for p in DataRoot(sample_data_root).release_dirs()
                  if p.parent.name == experiment)


def test_top_catalogue_has_kcdc_and_taiga(sample_catalog_path):
    cat = intake.open_catalog(str(sample_catalog_path))
    assert sorted(cat) == ["kcdc", "taiga"]
    assert isinstance(cat.kcdc.read(), intake.entry.Catalog)
    assert sorted(cat.kcdc.read()) == ["datasets", "events", "events_dask", "stations"]
    assert sorted(cat.taiga.read()) == ["datasets", "events", "events_dask", "files", "iact_images"]


def test_every_entry_loads_for_every_release(sample_catalog_path, sample_data_root):
    """pandas, dask and xarray entries of both sub-catalogues, for each release."""
    import dask.dataframe as dd
    import pandas as pd
    import xarray as xr

    cat = intake.open_catalog(str(sample_catalog_path))
    loaded = []
    for sub in ("kcdc", "taiga"):
        releases = _releases(sample_data_root, "kascade" if sub == "kcdc" else "taiga")
        assert releases
        for release in releases:
            manifest = Manifest.read(DataRoot(sample_data_root).release_dir(
                "kascade" if sub == "kcdc" else "taiga", release))
            n_events = sum(d["n_events"] for d in manifest.datasets.values())
            c = getattr(cat, sub)(release=release)
            for name in c.read():
                out = c[name].read()
                if name == "events":
                    assert isinstance(out, pd.DataFrame) and len(out) == n_events
                    assert set(out["release"].astype(str)) == {release}
                elif name == "events_dask":
                    assert isinstance(out, dd.DataFrame)
                    assert out.npartitions == len(manifest.datasets)  # one file per data set
                    head = out.head(3)  # computes the first partition
                    assert len(head) == 3 and set(head["release"].astype(str)) == {release}
                elif name == "iact_images":
                    assert isinstance(out, xr.Dataset)
                    assert out.sizes["pixel"] == 560 and {"pixel_x_deg", "uuid"} <= set(out.coords)
                    assert out.high_gain.isel(event=slice(0, 5)).values.shape[1] == 560
                elif name == "datasets":
                    assert sorted(out["dataset"]) == sorted(manifest.datasets)
                else:
                    assert isinstance(out, pd.DataFrame) and len(out.columns) > 3
                loaded.append((sub, release, name))
    assert len(loaded) >= 4 * 3 + 5


def test_wrong_release_is_refused_with_the_valid_ones(sample_catalog_path, sample_data_root):
    valid = _releases(sample_data_root, "kascade")
    cat = intake.open_catalog(str(sample_catalog_path))
    with pytest.raises(ParameterError) as err:
        cat.kcdc(release="VOYAGER")
    assert "VOYAGER" in str(err.value) and ", ".join(valid) in str(err.value)
    # the same check when the parameter is set on the sub-catalogue itself
    with pytest.raises(ParameterError, match="valid releases: " + ", ".join(valid)):
        cat.kcdc.read()(release="VOYAGER")["events"]
    # and through dlclab.catalog(...): no sub-catalogue accepts it
    with pytest.raises(ParameterError, match="VOYAGER"):
        dlclab.catalog(release="VOYAGER")
    # a TAIGA release is not a KASCADE release
    with pytest.raises(ParameterError):
        cat.kcdc(release=_releases(sample_data_root, "taiga")[0])


def test_other_parameters_are_validated_too(sample_catalog_path):
    cat = intake.open_catalog(str(sample_catalog_path))
    with pytest.raises(ParameterError, match="valid components: all, general, array"):
        cat.kcdc(component="lopes")
    with pytest.raises(ParameterError, match="no parameter 'relase'"):
        cat.kcdc(relase="OCEANUS")
    with pytest.raises(ParameterError, match="facility"):
        cat.taiga(facility="auger")


def test_parameter_classes_survive_the_yaml(sample_data_root):
    """Intake's own YAML writer drops ``cls:``; ours keeps it, so loading validates."""
    doc = yaml.safe_load((sample_data_root / "catalogs" / "kcdc.yaml").read_text())
    assert doc["user_parameters"]["release"]["cls"] == "dlclab.catalog.parameters:ChoiceParameter"
    cat = intake.entry.Catalog.from_yaml_file(str(sample_data_root / "catalogs" / "kcdc.yaml"))
    assert isinstance(cat.user_parameters["release"], ChoiceParameter)
    assert isinstance(cat.user_parameters["component"], NamedChoiceParameter)
    assert isinstance(cat.user_parameters["data_root"], DataRootParameter)


def test_component_dataset_and_facility_select(sample_catalog_path):
    cat = intake.open_catalog(str(sample_catalog_path))
    array = cat.kcdc(release="OCEANUS", component="array")["events"].read()
    assert {"energy_eV", "zenith_deg", "ne", "nmu", "age", "uuid"} <= set(array.columns)
    assert "temperature_degC" not in array.columns and "grande_nch" not in array.columns
    wa = cat.kcdc(release="OCEANUS", dataset="KASCADE_SmallDataSample_wA_runs_0877-7417")["events"].read()
    assert len(wa) > 0 and set(wa["dataset"]) == {"KASCADE_SmallDataSample_wA_runs_0877-7417"}
    iact = cat.taiga(facility="taiga_iact")["events"].read()
    assert len(iact) > 0 and set(iact["facility"]) == {"taiga_iact"}
    dask_iact = cat.taiga(facility="taiga_iact")["events_dask"].read()
    assert len(dask_iact) == len(iact)


def test_same_catalogue_serves_another_data_root(sample_catalog_path, second_root):
    """One catalogue, several data roots: a plain path and the fsspec file:// URL of a
    second root read that root's releases (it holds only NABOO)."""
    cat = intake.open_catalog(str(sample_catalog_path))
    for root in (str(second_root), f"file://{second_root}"):
        sub = cat(data_root=root).kcdc
        assert sub.read().user_parameters["release"].options == ["NABOO"]
        events = sub["events"].read()
        assert len(events) > 0 and set(events["release"].astype(str)) == {"NABOO"}
        assert len(cat(data_root=root).kcdc["stations"].read()) > 0
    # the second root's own catalogue points at itself by default (relative location)
    own = intake.open_catalog(str(second_root / "catalogs" / "dlc.yaml"))
    assert own.kcdc.read().user_parameters["release"].options == ["NABOO"]
    # and a root that does not exist fails loudly instead of falling back
    with pytest.raises(FileNotFoundError):
        cat(data_root=str(second_root / "nowhere")).kcdc.read()


def test_dlclab_catalog_needs_no_paths(monkeypatch, second_root, sample_data_root):
    from dlclab import config

    assert config.catalog_path() == sample_data_root / "catalogs" / "dlc.yaml"
    cat = dlclab.catalog()
    assert set(cat) == {"kcdc", "taiga"}
    monkeypatch.setenv("DLCLAB_CATALOG", str(second_root / "catalogs" / "dlc.yaml"))
    events = dlclab.catalog(release="NABOO").kcdc["events"].read()
    assert set(events["release"].astype(str)) == {"NABOO"}


def test_checked_in_catalogue_matches_the_writer(project_root, sample_data_root):
    from dlclab.catalog.writer import top_catalog

    checked_in = project_root / "catalogs" / "dlc.yaml"
    assert yaml.safe_load(checked_in.read_text()) == top_catalog("dlclab_data_root(config)")
    cat = intake.open_catalog(str(checked_in))  # data root from dlclab.config
    assert len(cat.kcdc(release="NABOO")["events"].read()) > 0


def test_writer_takes_manifest_dicts(sample_data_root, tmp_path):
    """The meta-data catalogue calls write_catalogs with the manifests it stores."""
    import json

    from dlclab.catalog import write_catalogs

    dicts = [json.loads((p / "manifest.json").read_text())
             for p in DataRoot(sample_data_root).release_dirs()]
    write_catalogs(dicts, tmp_path)
    for name in ("dlc.yaml", "kcdc.yaml", "taiga.yaml"):
        assert (yaml.safe_load((tmp_path / name).read_text())
                == yaml.safe_load((sample_data_root / "catalogs" / name).read_text()))


@pytest.mark.parametrize(("catalog_dir", "spec", "expected"), [
    ("file:///srv/dlclab/data/catalogs", "..", "/srv/dlclab/data"),
    ("/srv/dlclab/data/catalogs", "..", "/srv/dlclab/data"),
    ("s3://bucket/dlclab/catalogs", "..", "s3://bucket/dlclab"),
    ("https://data.example.org/dlc/catalogs", "../mirror", "https://data.example.org/dlc/mirror"),
])
def test_default_data_root_follows_the_catalogue(catalog_dir, spec, expected):
    """A generated catalogue finds its data root beside itself, on any filesystem."""
    from dlclab.catalog.parameters import _resolve_data_root

    assert _resolve_data_root(spec, catalog_dir) == expected


def test_missing_catalogue_says_what_to_do(sample_catalog_path, tmp_path):
    cat = intake.open_catalog(str(sample_catalog_path))
    with pytest.raises(FileNotFoundError, match="make data"):
        cat(data_root=str(tmp_path)).kcdc.read()
    with pytest.raises(ParameterError, match="data_root"):
        cat(data_root="  ").kcdc
