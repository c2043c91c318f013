{{/*
Names derive from .Values.cluster.name only (never from the release name), so
the hook can render with any release name and get the same objects. Every
name and label value is emitted through `quote`.
*/}}

{{/* prometheus-<cluster.name>: StatefulSet, Services, RBAC, ConfigMap prefix. */}}
{{- define "prometheus-cluster.fullname" -}}
{{- printf "prometheus-%s" .Values.cluster.name -}}
{{- end -}}

{{/*
Selector labels: the StatefulSet's selector (immutable: never add anything to
it), the Services' selectors and the PodDisruptionBudget's selector.
*/}}
{{- define "prometheus-cluster.selectorLabels" -}}
app.kubernetes.io/name: prometheus
app.kubernetes.io/instance: {{ .Values.cluster.name | quote }}
{{- end -}}

{{/* Pod template labels: the selector labels plus static labels; no controller-uid. */}}
{{- define "prometheus-cluster.podLabels" -}}
{{ include "prometheus-cluster.selectorLabels" . }}
app.kubernetes.io/component: server
app.kubernetes.io/managed-by: prometheus-cluster-controller
{{- end -}}

{{/*
Labels on every object's metadata: the pod labels plus controller-uid (the
label Metacontroller's generated selector matches) when the uid is known.
*/}}
{{- define "prometheus-cluster.labels" -}}
{{ include "prometheus-cluster.podLabels" . }}
{{- if .Values.cluster.uid }}
controller-uid: {{ .Values.cluster.uid | quote }}
{{- end }}
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
