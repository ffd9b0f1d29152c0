"""Raw formats and exports of the lab's experiments.

* :mod:`dlclab.formats.taiga`  TAIGA/Tunka raw formats (Kaitai-described, bulk decoded)
* :mod:`dlclab.formats.kcdc`   KCDC exports (ASCII, HDF5, ROOT)
* :mod:`dlclab.formats.detect` which format a file is, from its bytes
"""
