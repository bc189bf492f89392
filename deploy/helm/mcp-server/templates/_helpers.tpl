{{/* Names and labels shared by the templates. */}}

{{- define "mcp-server.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name alone when it already contains the chart name. */}}
{{- define "mcp-server.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mcp-server.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-server.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mcp-server.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "mcp-server.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: mcp-server
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mcp-server.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcp-server.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mcp-server.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* http or https: how probes and the ServiceMonitor reach the server port. */}}
{{- define "mcp-server.scheme" -}}
{{- if .Values.tls.existingSecret }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/*
Refuses combinations the schema cannot express: a grace period too short to drain, a claim the chart
cannot find. Included by the Deployment so every render checks it.
*/}}
{{- define "mcp-server.validate" -}}
{{- $grace := default "5000" (toString (index .Values.config "SHUTDOWN_GRACE_MS" | default "")) | int }}
{{- $needed := add .Values.lifecycle.preStopSleepSeconds (div (add $grace 999) 1000) 5 }}
{{- if lt (int .Values.lifecycle.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "lifecycle.terminationGracePeriodSeconds (%v) must be at least preStopSleepSeconds + SHUTDOWN_GRACE_MS in seconds + 5 = %v, or calls in flight are killed on every rollout" .Values.lifecycle.terminationGracePeriodSeconds $needed) }}
{{- end }}
{{- if and (eq .Values.data.type "existingClaim") (not .Values.data.existingClaim) }}
{{- fail "data.type existingClaim needs data.existingClaim (the PersistentVolumeClaim's name)" }}
{{- end }}
{{- if and .Values.metrics.enabled (eq (int .Values.metrics.port) (int .Values.service.targetPort)) }}
{{- fail "metrics.port must differ from service.targetPort (the metrics listener is a port of its own)" }}
{{- end }}
{{- end }}
