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
switchyard.io/mode: {{ ternary "relay" "git" (.Values.relay.enabled | default false) }}
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

{{/* A YAML string value parsed into a dict; `what` names the value in errors. */}}
{{- define "switchyard.parseYaml" -}}
{{- $text := index . 0 }}
{{- $what := index . 1 }}
{{- if not (kindIs "string" $text) }}
{{- fail (printf "%s must be a string holding YAML (%s: |)" $what $what) }}
{{- end }}
{{- $cfg := fromYaml $text }}
{{- if hasKey $cfg "Error" }}
{{- fail (printf "%s is not valid YAML: %s" $what (get $cfg "Error")) }}
{{- end }}
{{- toJson $cfg }}
{{- end }}

{{/* The shutdown timings checked: two whole numbers of seconds. */}}
{{- define "switchyard.shutdownSeconds" -}}
{{- $d := .Values.shutdown.delaySeconds }}
{{- $g := .Values.shutdown.gracePeriodSeconds }}
{{- $num := list "float64" "int64" "int" }}
{{- if or (not (has (kindOf $d) $num)) (not (has (kindOf $g) $num)) }}
{{- fail (printf "shutdown.delaySeconds (%v) and shutdown.gracePeriodSeconds (%v) must be numbers of seconds" $d $g) }}
{{- end }}
{{- if or (lt (float64 $d) 0.0) (lt (float64 $g) 1.0) }}
{{- fail (printf "shutdown.delaySeconds (%v) must be a number of seconds >= 0 and shutdown.gracePeriodSeconds (%v) >= 1" $d $g) }}
{{- end }}
{{- printf "%d %d" (int $d) (int $g) }}
{{- end }}

{{/* The pod's terminationGracePeriodSeconds: the shutdown delay plus the grace period plus 5 s
for the process to exit, unless set; a value that would cut the drain short is refused. */}}
{{- define "switchyard.terminationGracePeriod" -}}
{{- $s := splitList " " (include "switchyard.shutdownSeconds" .) }}
{{- $need := add (index $s 0 | atoi) (index $s 1 | atoi) }}
{{- $t := .Values.terminationGracePeriodSeconds }}
{{- if kindIs "invalid" $t }}
{{- add $need 5 }}
{{- else if le (int $t) $need }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed shutdown.delaySeconds + shutdown.gracePeriodSeconds (%d), or Kubernetes kills the pod while it drains; leave it null to derive it" $t $need) }}
{{- else }}
{{- int $t }}
{{- end }}
{{- end }}

{{/* The serve configuration. Git mode: `config`, with the local backend every storage keeps its
repository on the volume. Relay mode: built from `relay.*` and `relay.config`, no Git source
nor credentials. Both: `server.shutdown_delay` and `server.shutdown_grace_period` from
`shutdown.*`. */}}
{{- define "switchyard.config" -}}
{{- $cfg := dict }}
{{- if .Values.relay.enabled }}
{{- $cfg = include "switchyard.parseYaml" (list (.Values.relay.config | default "") "relay.config") | fromJson }}
{{- range $key := list "upstream" "storage" "environments" "credentials" }}
{{- if hasKey $cfg $key }}
{{- fail (printf "relay.config must not set %s: a relay follows relay.upstream.url, not Git (its environments are relay.environments)" $key) }}
{{- end }}
{{- end }}
{{- if not .Values.relay.upstream.url }}
{{- fail "relay.enabled needs relay.upstream.url: the upstream Switchyard's URL, e.g. http://flags-switchyard:8080 (its Service)" }}
{{- end }}
{{- if or .Values.sshKey.secretName .Values.knownHosts }}
{{- fail "relay mode renders no Git credentials: unset sshKey.secretName and knownHosts (the upstream holds them)" }}
{{- end }}
{{- $up := dict "url" .Values.relay.upstream.url }}
{{- if .Values.relay.upstream.tokenSecret.name }}
{{- $_ := set $up "token" "${env:SWITCHYARD_UPSTREAM_TOKEN}" }}
{{- end }}
{{- with .Values.relay.environments }}
{{- $_ := set $up "environments" . }}
{{- end }}
{{- if eq .Values.backend "local" }}
{{- $_ := set $up "backend" (dict "type" "local" "path" "/var/lib/switchyard/relay") }}
{{- end }}
{{- $_ := set $cfg "upstream" $up }}
{{- else }}
{{- $cfg = include "switchyard.parseYaml" (list .Values.config "config") | fromJson }}
{{- if not (hasKey $cfg "storage") }}
{{- fail "config has no storage: the Git repositories to serve (see values.yaml)" }}
{{- end }}
{{- if eq .Values.backend "local" }}
{{- range $id, $storage := $cfg.storage }}
{{- $_ := set $storage "backend" (dict "type" "local" "path" (printf "/var/lib/switchyard/%s" $id)) }}
{{- end }}
{{- end }}
{{- end }}
{{- $server := get $cfg "server" | default dict }}
{{- range $key := list "shutdown_delay" "shutdown_grace_period" }}
{{- if hasKey $server $key }}
{{- fail (printf "set shutdown.delaySeconds and shutdown.gracePeriodSeconds instead of server.%s in the configuration: the chart ties them to the pod's terminationGracePeriodSeconds" $key) }}
{{- end }}
{{- end }}
{{- $s := splitList " " (include "switchyard.shutdownSeconds" .) }}
{{- $_ := set $server "shutdown_delay" (printf "%ss" (index $s 0)) }}
{{- $_ := set $server "shutdown_grace_period" (printf "%ss" (index $s 1)) }}
{{- $_ := set $cfg "server" $server }}
{{- toYaml $cfg }}
{{- end }}
