{{/* Labels of every object of this chart. */}}
{{- define "dlclab.labels" -}}
app.kubernetes.io/name: dlclab
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component. */}}
{{- define "dlclab.selector" -}}
app.kubernetes.io/name: dlclab
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The lab image (users, dask workers, the aggregation service, course jobs). */}}
{{- define "dlclab.labImage" -}}
{{ .Values.labImage.name }}:{{ .Values.labImage.tag }}
{{- end -}}

{{/* A read-only PersistentVolume + claim pair for one data source (nfs, cvmfs, claim). */}}
{{- define "dlclab.readOnlyVolume" -}}
{{- $source := .source -}}
{{- if eq $source.type "nfs" }}
apiVersion: v1
kind: PersistentVolume
metadata:
  name: {{ .name }}-{{ .root.Release.Namespace }}
  labels:
    {{- include "dlclab.labels" .root | nindent 4 }}
spec:
  capacity:
    storage: {{ $source.size }}
  accessModes: [ReadOnlyMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  mountOptions: [ro, nfsvers=4.1]
  nfs:
    server: {{ $source.nfs.server | quote }}
    path: {{ $source.nfs.path | quote }}
    readOnly: true
  claimRef:
    namespace: {{ .root.Release.Namespace }}
    name: {{ .name }}
---
{{- end }}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .name }}
  labels:
    {{- include "dlclab.labels" .root | nindent 4 }}
  annotations:
    helm.sh/resource-policy: keep
spec:
  accessModes: [ReadOnlyMany]
  resources:
    requests:
      storage: {{ $source.size }}
  {{- if eq $source.type "nfs" }}
  storageClassName: ""
  volumeName: {{ .name }}-{{ .root.Release.Namespace }}
  {{- else if eq $source.type "cvmfs" }}
  storageClassName: {{ $source.cvmfs.storageClassName | quote }}
  {{- else }}
  storageClassName: {{ $source.storageClassName | quote }}
  {{- end }}
{{- end -}}
