{{/*
Static names and labels: nothing depends on the release name or on Helm, so
the objects equal the plain manifests in metacontroller/.
*/}}
{{- define "pcc.name" -}}prometheus-cluster-controller{{- end -}}

{{- define "pcc.selectorLabels" -}}
app.kubernetes.io/name: prometheus-cluster-controller
app.kubernetes.io/component: hook
{{- end -}}

{{- define "pcc.labels" -}}
{{ include "pcc.selectorLabels" . }}
app.kubernetes.io/part-of: prometheus-cluster-controller
{{- end -}}

{{- define "pcc.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
