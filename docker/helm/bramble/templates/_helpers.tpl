{{/* Labels that select Bramble's pod (also used by the Service). */}}
{{- define "bramble.selectorLabels" -}}
app.kubernetes.io/name: bramble
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object of the release. */}}
{{- define "bramble.labels" -}}
{{ include "bramble.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* In-cluster base URL of the Service; Grafana data source and push clients use it. */}}
{{- define "bramble.url" -}}
http://{{ .Release.Name }}.{{ .Release.Namespace }}.svc:{{ .Values.port }}
{{- end }}

{{/* Bramble's config file (Loki's key names). Data lives on the volume mounted at /loki. */}}
{{- define "bramble.config" -}}
auth_enabled: {{ .Values.authEnabled }}
server:
  http_listen_port: {{ .Values.port }}
common:
  path_prefix: /loki
limits_config:
  retention_period: {{ .Values.retention | quote }}
compactor:
  # Deletes chunks older than retention_period; 0s keeps everything.
  retention_enabled: true
pattern_ingester:
  enabled: {{ .Values.patterns }}
{{- if .Values.scanWorkers }}
querier:
  scan_workers: {{ .Values.scanWorkers }}
{{- end }}
{{- end }}
