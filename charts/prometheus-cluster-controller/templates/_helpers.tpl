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

{{/*
Mutual TLS between Metacontroller and the hook. The hook's Secret holds its
serving certificate and the CA (ca.crt) that signs both it and Metacontroller's
client certificate; Metacontroller verifies the hook with that ca.crt and
presents the client Secret. Both Secrets live in the hook's namespace.
*/}}
{{- define "pcc.tlsSecret" -}}prometheus-cluster-controller-tls{{- end -}}
{{- define "pcc.clientSecret" -}}prometheus-cluster-controller-client{{- end -}}
{{- define "pcc.hooksPort" -}}8443{{- end -}}
{{- define "pcc.opsPort" -}}8081{{- end -}}

{{/* True (non-empty) when cert-manager issues the certificates. */}}
{{- define "pcc.certManager" -}}
{{- if not (has .Values.tls.issuer (list "auto" "certManager" "helm")) -}}
{{- fail (printf "tls.issuer is %q: must be auto, certManager or helm" .Values.tls.issuer) -}}
{{- end -}}
{{- if or (eq .Values.tls.issuer "certManager") (and (eq .Values.tls.issuer "auto") (.Capabilities.APIVersions.Has "cert-manager.io/v1")) -}}true{{- end -}}
{{- end -}}

{{/* The DNS names of the hook's Service, in its serving certificate. */}}
{{- define "pcc.dnsNames" -}}
{{- $name := include "pcc.name" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $name (printf "%s.%s" $name $ns) (printf "%s.%s.svc" $name $ns) (printf "%s.%s.svc.cluster.local" $name $ns) | toJson -}}
{{- end -}}

{{/*
A webhook's TLS settings. Metacontroller checks the hook's certificate with
ca.crt of the hook's Secret and presents the client Secret. It reads both once,
when the CompositeController is created or changed (and at its own start): a
renewed serving certificate from the same CA needs nothing, a renewed client
certificate or a new CA needs a Metacontroller restart.
*/}}
{{- define "pcc.webhookTLS" -}}
caBundle:
  secretRef:
    name: {{ include "pcc.tlsSecret" . }}
    namespace: {{ .Release.Namespace }}
    key: ca.crt
clientTLS:
  secretRef:
    name: {{ include "pcc.clientSecret" . }}
    namespace: {{ .Release.Namespace }}
{{- end -}}

{{/*
Monitoring of the hook: the Service the ServiceMonitor selects (the plain-HTTP
ops port only), its labels, and the matchers that pick the hook's series in
the alerts (job is the Service's name: prometheus-operator's default).
*/}}
{{- define "pcc.metricsService" -}}prometheus-cluster-controller-metrics{{- end -}}

{{- define "pcc.metricsLabels" -}}
app.kubernetes.io/name: prometheus-cluster-controller
app.kubernetes.io/component: metrics
app.kubernetes.io/part-of: prometheus-cluster-controller
{{- end -}}

{{- define "pcc.ruleSelector" -}}
{{- .Values.prometheusRule.selector | default (printf "job=%q,namespace=%q" (include "pcc.metricsService" .) .Release.Namespace) -}}
{{- end -}}

{{/* Labels of a monitoring object: the chart's, then the user's (`labels`) for any other key. */}}
{{- define "pcc.monitoringObjectLabels" -}}
{{- toYaml (merge (dict) (include "pcc.metricsLabels" .root | fromYaml) (.labels | default dict)) -}}
{{- end -}}
