#!/bin/bash
# Install or upgrade the lab on a Kubernetes cluster: the same command does both.
#
#   helm/deploy.sh [SITE_DIR] [NAMESPACE]
#
# SITE_DIR (default: site/) may hold the site's own values: jupyterhub.yaml,
# dask-gateway.yaml, dlclab.yaml (each optional, passed after the lab's values).
# Needs kubectl access to the cluster and network access to the two chart repositories.
# The Secrets named in docs/kubernetes.md ("Secrets") must exist first.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
SITE="${1:-site}"
NAMESPACE="${2:-dlclab}"
JUPYTERHUB_CHART_VERSION=4.4.0
DASK_GATEWAY_CHART_VERSION=2026.3.0
HELM="${HELM:-$(command -v helm || python3 "$HERE/tools/get_tools.py")}"

site_values() {  # -f SITE/<name>.yaml if the site has one
  if [ -f "$SITE/$1.yaml" ]; then printf -- '-f\n%s\n' "$SITE/$1.yaml"; fi
}

"$HELM" repo add jupyterhub https://hub.jupyter.org/helm-chart/ --force-update >/dev/null
"$HELM" repo add dask https://helm.dask.org/ --force-update >/dev/null
"$HELM" repo update jupyterhub dask >/dev/null

# 1. JupyterHub first: it creates the Secret `hub` with the services' API tokens that the
#    gateway and the aggregation service read.
mapfile -t extra < <(site_values jupyterhub)
"$HELM" upgrade --install hub jupyterhub/jupyterhub --version "$JUPYTERHUB_CHART_VERSION" \
  --namespace "$NAMESPACE" --create-namespace \
  -f "$HERE/values/jupyterhub.yaml" "${extra[@]}" --wait --timeout 10m

# 2. The lab's own resources: volumes, catalogue database, aggregation service, policies.
mapfile -t extra < <(site_values dlclab)
"$HELM" upgrade --install dlclab "$HERE/dlclab" --namespace "$NAMESPACE" \
  "${extra[@]}" --wait --timeout 10m

# 3. dask-gateway.
mapfile -t extra < <(site_values dask-gateway)
"$HELM" upgrade --install dask-gateway dask/dask-gateway --version "$DASK_GATEWAY_CHART_VERSION" \
  --namespace "$NAMESPACE" -f "$HERE/values/dask-gateway.yaml" "${extra[@]}" --wait --timeout 10m

kubectl --namespace "$NAMESPACE" get service proxy-public
