"""Storage instances served over XRootD (APPDS storages S1..Sn). See docs/storage.md."""
