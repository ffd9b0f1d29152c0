#!/bin/bash
# Checks the lab image from the inside (as pangeo-docker-images' run_tests.sh does):
#   docker run --rm ghcr.io/dlclab/lab:0.1.0 run-image-tests
# Runs the image's own tests with the image's own Python; exits non-zero on a failure.
set -euo pipefail
cd /tmp
exec python -m pytest -p no:cacheprovider -q "${DLCLAB_IMAGE_TESTS:-/opt/dlclab/tests/test_image.py}" "$@"
