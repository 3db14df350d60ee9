{{/* The chart's name, at most 63 characters. */}}
{{- define "switchyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, used for every object. */}}
{{- define "switchyard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "switchyard.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "switchyard.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Labels that select the pods. */}}
{{- define "switchyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "switchyard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "switchyard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The service account's name. */}}
{{- define "switchyard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "switchyard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The workload's kind: a StatefulSet (a volume per pod) for the local backend. */}}
{{- define "switchyard.workloadKind" -}}
{{- if eq .Values.backend "local" }}StatefulSet{{ else if eq .Values.backend "memory" }}Deployment{{ else }}{{ fail (printf "backend must be memory or local, not %q" .Values.backend) }}{{ end }}
{{- end }}

{{/* The serve configuration; with the local backend every storage keeps its repository on the volume. */}}
{{- define "switchyard.config" -}}
{{- if not (kindIs "string" .Values.config) }}
{{- fail "config must be a string holding the serve configuration's YAML (config: |)" }}
{{- end }}
{{- $cfg := fromYaml .Values.config }}
{{- if hasKey $cfg "Error" }}
{{- fail (printf "config is not valid YAML: %s" (get $cfg "Error")) }}
{{- end }}
{{- if not (hasKey $cfg "storage") }}
{{- fail "config has no storage: the Git repositories to serve (see values.yaml)" }}
{{- end }}
{{- if eq .Values.backend "local" }}
{{- range $id, $storage := $cfg.storage }}
{{- $_ := set $storage "backend" (dict "type" "local" "path" (printf "/var/lib/switchyard/%s" $id)) }}
{{- end }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
