{{/* Names: "gatehouse" for a release called gatehouse, "<release>-gatehouse" otherwise. */}}
{{- define "gatehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gatehouse.fullname" -}}
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

{{- define "gatehouse.operator.fullname" -}}
{{- printf "%s-operator" (include "gatehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gatehouse.spServer.fullname" -}}
{{- printf "%s-sp-server" (include "gatehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Secret the operator renders the SP configuration into and the sp-server reads. */}}
{{- define "gatehouse.configSecretName" -}}
{{- printf "%s-sp-config" (include "gatehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The key the operator signs domain verifications with; it creates the Secret on first start. */}}
{{- define "gatehouse.domainProofSecretName" -}}
{{- printf "%s-domain-proof-key" (include "gatehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gatehouse.signingKeySecretName" -}}
{{- if .Values.spServer.signingKey.existingSecret }}
{{- .Values.spServer.signingKey.existingSecret }}
{{- else }}
{{- printf "%s-oidc-signing-key" (include "gatehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The EC P-256 (ES256) key's entry in the signing key Secret: ec-private.pem in the generated Secret, none in an existing one unless named. */}}
{{- define "gatehouse.signingECKey" -}}
{{- if .Values.spServer.signingKey.ecKey }}
{{- .Values.spServer.signingKey.ecKey }}
{{- else if not .Values.spServer.signingKey.existingSecret }}
{{- "ec-private.pem" }}
{{- end }}
{{- end }}

{{- define "gatehouse.oauthClientsSecretName" -}}
{{- printf "%s-oauth-clients" (include "gatehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The sp-server's clients file (JSON): the application's clients, and the admin portal's when enabled. */}}
{{- define "gatehouse.oauthClients" -}}
{{- $clients := .Values.spServer.oauthClients | default (list) }}
{{- if .Values.portal.enabled }}
{{- $clients = append $clients (include "gatehouse.portal.oauthClient" . | fromJson) }}
{{- end }}
{{- toJson $clients }}
{{- end }}

{{- define "gatehouse.operator.serviceAccountName" -}}
{{- default (include "gatehouse.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- end }}

{{- define "gatehouse.spServer.serviceAccountName" -}}
{{- default (include "gatehouse.spServer.fullname" .) .Values.spServer.serviceAccount.name }}
{{- end }}

{{- define "gatehouse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "gatehouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gatehouse
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels; pass (dict "ctx" $ "component" "operator"). Never change them: selectors are immutable. */}}
{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "gatehouse.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The restricted Pod Security Standard, for every pod the chart runs. */}}
{{- define "gatehouse.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "gatehouse.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Namespaces whose Secrets Gatehouse may touch: "" means every namespace (ClusterRoleBinding). */}}
{{- define "gatehouse.organizationNamespaces" -}}
{{- if eq .Values.rbac.organizationNamespaces.scope "Namespaces" }}
{{- join "," .Values.rbac.organizationNamespaces.namespaces }}
{{- end }}
{{- end }}

{{- define "gatehouse.redisPasswordSecretName" -}}
{{- .Values.redis.existingSecret }}
{{- end }}
