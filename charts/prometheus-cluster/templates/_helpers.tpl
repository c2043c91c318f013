{{/*
Every name, label and path comes in as a value (src/api/chart-values.ts, computed in src/core):
the chart derives none of them. Every name and label value is emitted through `quote`.
*/}}

{{/* A list of {name, value} labels as YAML lines, in their order. */}}
{{- define "prometheus-cluster.labelLines" -}}
{{- range $i, $l := . }}{{ if $i }}{{ "\n" }}{{ end }}{{ include "prometheus-cluster.key" $l.name }}: {{ quote $l.value }}{{ end }}
{{- end -}}

{{/*
Selector labels: the StatefulSet's selector (immutable: never add anything to
it), the Services' selectors and the PodDisruptionBudget's selector.
*/}}
{{- define "prometheus-cluster.selectorLabels" -}}
{{ include "prometheus-cluster.labelLines" .Values.labels.selector }}
{{- end -}}

{{/* Labels of every object and pod; Metacontroller adds controller-uid to the objects itself. */}}
{{- define "prometheus-cluster.labels" -}}
{{ include "prometheus-cluster.labelLines" .Values.labels.common }}
{{- end -}}

{{/* Standard metadata: name (passed as .name), namespace and labels. */}}
{{- define "prometheus-cluster.metadata" -}}
name: {{ .name | quote }}
namespace: {{ .root.Release.Namespace | quote }}
labels:
  {{- include "prometheus-cluster.labels" .root | nindent 2 }}
{{- end -}}

{{/*
Render a structured value (resources, nodeSelector, tolerations, affinity) as
YAML without toYaml: every string, key or value, goes through `quote` (Go's
%q: escapes quotes, backslashes, newlines, U+0085, U+2028 and every other
non-printable character), numbers, booleans and null through toJson. toYaml
is avoided here because it loses or folds some characters (NEL, U+2028,
trailing newlines) and renders nothing at all when it fails.

  prometheus-cluster.block (dict "v" VALUE "indent" N)
    a non-empty map: one "\n<N spaces>"-prefixed line per key (sorted), nested
    maps in block style; lists as "- " items in flow style. Meant to follow
    "key:" directly. Map entries whose value is null are left out (for
    Kubernetes an explicit null and an absent field are the same).
  prometheus-cluster.flow VALUE
    any value on one line in flow style.
*/}}
{{- /* A map key: YAML limits implicit keys to 1024 characters, so longer keys are explicit ("? key"). */ -}}
{{- define "prometheus-cluster.key" -}}
{{- if gt (len (quote .)) 1000 }}? {{ end }}{{ quote . }}
{{- end -}}

{{- define "prometheus-cluster.flow" -}}
{{- $kind := kindOf . -}}
{{- if eq $kind "string" -}}
{{ quote . }}
{{- else if eq $kind "map" -}}
{{- $sep := "" -}}
{ {{- range $k, $v := . }}{{ if ne (kindOf $v) "invalid" }}{{ $sep }}{{ include "prometheus-cluster.key" $k }}: {{ include "prometheus-cluster.flow" $v }}{{ $sep = ", " }}{{ end }}{{ end -}} }
{{- else if eq $kind "slice" -}}
{{- $sep := "" -}}
[ {{- range . }}{{ $sep }}{{ include "prometheus-cluster.flow" . }}{{ $sep = ", " }}{{ end -}} ]
{{- else if eq $kind "invalid" -}}
null
{{- else -}}
{{ toJson . }}
{{- end -}}
{{- end -}}

{{- define "prometheus-cluster.block" -}}
{{- $pad := repeat (int .indent) " " -}}
{{- $next := add (int .indent) 2 -}}
{{- $v := .v -}}
{{- if and (eq (kindOf $v) "map") $v -}}
{{- range $k, $item := $v }}
{{- if ne (kindOf $item) "invalid" }}
{{- if gt (len (quote $k)) 1000 }}
{{ $pad }}? {{ quote $k }}
{{ $pad }}:
{{- else }}
{{ $pad }}{{ quote $k }}:
{{- end }}
{{- if and (eq (kindOf $item) "map") $item }}{{ include "prometheus-cluster.block" (dict "v" $item "indent" $next) }}
{{- else if and (eq (kindOf $item) "slice") $item }}{{ include "prometheus-cluster.block" (dict "v" $item "indent" $next) }}
{{- else }} {{ include "prometheus-cluster.flow" $item }}
{{- end }}
{{- end }}
{{- end }}
{{- else if and (eq (kindOf $v) "slice") $v -}}
{{- range $v }}
{{ $pad }}- {{ include "prometheus-cluster.flow" . }}
{{- end }}
{{- else }} {{ include "prometheus-cluster.flow" $v }}
{{- end -}}
{{- end -}}
