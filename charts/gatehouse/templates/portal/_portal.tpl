{{/* Names and generated values of the admin portal (portal.enabled). */}}
{{- define "gatehouse.portal.fullname" -}}
{{- printf "%s-portal" (include "gatehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gatehouse.portal.serviceAccountName" -}}
{{- default (include "gatehouse.portal.fullname" .) .Values.portal.serviceAccount.name }}
{{- end }}

{{/* The portal's OIDC client at the sp-server: the client ID its clients file names. */}}
{{- define "gatehouse.portal.clientId" -}}
gatehouse-portal
{{- end }}

{{- define "gatehouse.portal.oidcSecretName" -}}
{{- if (.Values.portal.oidcClient).existingSecret }}
{{- .Values.portal.oidcClient.existingSecret }}
{{- else }}
{{- printf "%s-portal-oidc" (include "gatehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The bearer token the portal presents to the sp-server's internal activity endpoint. */}}
{{- define "gatehouse.internalTokenSecretName" -}}
{{- if (.Values.portal.internalToken).existingSecret }}
{{- .Values.portal.internalToken.existingSecret }}
{{- else }}
{{- printf "%s-internal-token" (include "gatehouse.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Fixed (portal/options.ts's default and the mint-link script's): the portal's Role names it. */}}
{{- define "gatehouse.portal.setupLinksConfigMap" -}}
gatehouse-portal-setup-links
{{- end }}

{{/* The sp-server's metrics listener inside the cluster, where the internal activity endpoint is. */}}
{{- define "gatehouse.spServer.internalServiceName" -}}
{{- printf "%s-internal" (include "gatehouse.spServer.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The portal's OIDC client secret: the one already in the cluster (upgrades keep it, or every
portal session and the sp-server's registration would disagree), else a new random one. Both the
portal's Secret and the sp-server's clients file (its sha256) need the same value within one
render, so the first call remembers it for the others.
*/}}
{{- define "gatehouse.portal.oidcClientSecret" -}}
{{- if not (hasKey .Values "gatehouseGenerated") }}
{{- $_ := set .Values "gatehouseGenerated" (dict) }}
{{- end }}
{{- $memo := .Values.gatehouseGenerated }}
{{- if not (hasKey $memo "portalClientSecret") }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "gatehouse.portal.oidcSecretName" .) }}
{{- if and $existing $existing.data (hasKey $existing.data "client-secret") }}
{{- $_ := set $memo "portalClientSecret" (index $existing.data "client-secret" | b64dec) }}
{{- else }}
{{- $_ := set $memo "portalClientSecret" (randAlphaNum 48) }}
{{- end }}
{{- end }}
{{- index $memo "portalClientSecret" }}
{{- end }}

{{/* The portal's client in the sp-server's clients file: its secret only as a sha256. */}}
{{- define "gatehouse.portal.oauthClient" -}}
{{- toJson (dict
  "clientId" (include "gatehouse.portal.clientId" .)
  "redirectUris" (list (printf "%s/signin/callback" .Values.portal.publicURL))
  "public" false
  "clientSecretHash" (ternary .Values.portal.oidcClient.clientSecretHash (printf "sha256:%s" (include "gatehouse.portal.oidcClientSecret" . | sha256sum)) (not (empty (.Values.portal.oidcClient).existingSecret)))
  "allowedScopes" (list "openid" "email" "profile" "organization")) }}
{{- end }}
