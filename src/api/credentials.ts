// Credentials of the HTTP clients Prometheus runs (remote write, Alertmanagers), taken from Secrets
// in the cluster's namespace: mounted into the pods by the kubelet and referred to by file in the
// generated prometheus.yml, so they never appear in the PrometheusCluster, the ConfigMap or
// /api/v1/status/config, and the servers' own account reads no Secrets.
import { Type, type Static } from '@sinclair/typebox'
import { DNS_SUBDOMAIN, Optional } from './kube-types.js'

/** Where the Secrets a cluster uses are mounted in its Prometheus pods, each in a directory of its name. */
export const SECRETS_DIR = '/etc/prometheus/secrets'

export const SecretKeySelector = Type.Object(
  {
    name: Type.String({ description: 'Name of a Secret in the cluster\'s namespace.', pattern: DNS_SUBDOMAIN, maxLength: 253 }),
    key: Type.String({ description: 'A key of that Secret.', pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 })
  },
  { description: 'A key of a Secret in the cluster\'s namespace.', additionalProperties: false }
)
export type SecretKeySelector = Static<typeof SecretKeySelector>

export const BasicAuth = Type.Object(
  {
    username: SecretKeySelector,
    password: SecretKeySelector
  },
  { description: 'HTTP basic authentication, both parts from Secrets.', additionalProperties: false }
)

export const Authorization = Type.Object(
  {
    type: Optional(Type.String({ description: 'The scheme of the Authorization header; Bearer when omitted.', pattern: '^[A-Za-z][-A-Za-z0-9]*$', maxLength: 64 })),
    credentials: SecretKeySelector
  },
  { description: 'An Authorization header (a bearer token by default), its credentials from a Secret.', additionalProperties: false }
)

export const TlsClient = Type.Object(
  {
    ca: Optional(SecretKeySelector),
    cert: Optional(SecretKeySelector),
    key: Optional(SecretKeySelector),
    serverName: Optional(Type.String({ description: 'The server name to verify the certificate against, when it differs from the URL\'s host.', maxLength: 253 })),
    insecureSkipVerify: Optional(Type.Boolean({ description: 'Skip verifying the server\'s certificate. Only for testing.' }))
  },
  {
    description: 'TLS of the connection: the CA that signs the server\'s certificate and a client certificate and key, each from a Secret.',
    additionalProperties: false,
    'x-kubernetes-validations': [{ rule: 'has(self.cert) == has(self.key)', message: 'tls.cert and tls.key go together' }]
  }
)

/** The credential fields of an HTTP client, spread into its schema. */
export const HttpClientAuth = {
  basicAuth: Optional(BasicAuth),
  authorization: Optional(Authorization),
  tls: Optional(TlsClient)
}
