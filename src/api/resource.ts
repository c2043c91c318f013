// The PrometheusCluster resource: identity of the API and the limits on its name.
import { Type } from '@sinclair/typebox'

export const GROUP = 'relaxdiego.com'
export const VERSION = 'v1alpha1'
export const API_VERSION = `${GROUP}/${VERSION}`
export const KIND = 'PrometheusCluster'
export const PLURAL = 'prometheusclusters'
export const SINGULAR = 'prometheuscluster'
export const SHORT_NAMES = ['promcluster', 'promclusters']
/** Not `prometheus`: kubectl expands categories first, so `kubectl get prometheus` would list ours, not prometheus-operator's. */
export const CATEGORIES = ['monitoring']

/**
 * The longest name whose derived object names stay valid: the StatefulSet `promcluster-<name>` must
 * leave room for the 11-character revision hash suffix within a 63-character label value (52), and
 * `promcluster-<name>-headless` must be a 63-character DNS label.
 */
export const MAX_NAME_LENGTH = 40
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'

export const ClusterName = Type.String({
  description: `Name of the PrometheusCluster: a DNS label of at most ${MAX_NAME_LENGTH} characters.`,
  pattern: NAME_PATTERN,
  minLength: 1,
  maxLength: MAX_NAME_LENGTH
})

export const NAME_RULE = {
  rule: `self.metadata.name.size() <= ${MAX_NAME_LENGTH} && self.metadata.name.matches('${NAME_PATTERN}')`,
  message: `metadata.name must be a DNS label (lower-case letters, digits and '-') of at most ${MAX_NAME_LENGTH} characters, so the names of the objects derived from it stay valid`
}
