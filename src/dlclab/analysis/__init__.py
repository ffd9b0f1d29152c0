"""Physics analyses of the lab: shared, tested building blocks that the papermill
notebooks under ``notebooks/analyses`` call. Each module does one job:

``calibration``  energy from shower observables, calibrated on simulation truth
``spectrum``     exposure, response, forward folding and flux points
``models``       spectral models (smoothly broken power laws) and their iminuit fits
``tunka``        Tunka-133 event reconstruction from FADC traces
``skymap``       equatorial coordinates (astropy) and a Rayleigh anisotropy test
``iact``         IACT images: Hillas baseline (ctapipe) and CNNs (PyTorch, CPU)
``results``      machine-readable result tables with units and errors
``parameters``   declared notebook parameters and their validation
``inputs``       what the analyses read, through the lab's catalogue
"""
