{{- define "moderation.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "moderation.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "moderation.labels" -}}
app.kubernetes.io/name: {{ include "moderation.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "moderation.selectorLabels" -}}
app.kubernetes.io/name: {{ include "moderation.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "moderation.secretName" -}}
{{- default (include "moderation.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{- define "moderation.redisName" -}}
{{- printf "%s-redis" (include "moderation.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Whole CPUs of the container's CPU limit ("2", "2.5", "1500m"), at least 1: one ONNX
Runtime session per CPU. */}}
{{- define "moderation.engineWorkers" -}}
{{- $cpu := toString (required "resources.limits.cpu sizes the engine workers" .Values.resources.limits.cpu) -}}
{{- $n := 0 -}}
{{- if hasSuffix "m" $cpu -}}
{{- $n = div (atoi (trimSuffix "m" $cpu)) 1000 -}}
{{- else -}}
{{- $n = int (floor (float64 $cpu)) -}}
{{- end -}}
{{- max 1 $n -}}
{{- end -}}

{{/* Series selector of this release's pods, as the ServiceMonitor's scrape labels them. */}}
{{- define "moderation.selector" -}}
job="{{ include "moderation.fullname" . }}", namespace="{{ .Release.Namespace }}"
{{- end -}}
