// helm's multi-document output -> the desired children, checked and in a stable order. Pure.
import { parseAllDocuments } from 'yaml'
import type { KubeObject } from '../api/hook-request.js'
import { isChildType, sortChildren } from '../core/child-types.js'
import { HookError } from '../core/errors.js'

function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null) return false
  const o = value as Partial<KubeObject>
  return typeof o.apiVersion === 'string' && typeof o.kind === 'string' && typeof o.metadata?.name === 'string'
}

/**
 * Parses rendered manifests. Throws HookError('RenderFailed') on YAML errors, on objects of a type
 * the controller does not declare, on duplicates, and when the StatefulSet is missing: returning
 * such a set would make Metacontroller fail or delete children.
 */
export function parseChildren(manifests: string, statefulSetName: string): KubeObject[] {
  const children: KubeObject[] = []
  const seen = new Set<string>()
  for (const doc of parseAllDocuments(manifests)) {
    const [error] = doc.errors
    if (error) throw new HookError('RenderFailed', `the chart rendered invalid YAML: ${error.message}`)
    const value: unknown = doc.toJS()
    if (value === null || value === undefined) continue
    if (!isKubeObject(value)) throw new HookError('RenderFailed', 'the chart rendered a document without apiVersion, kind and metadata.name')
    const type = `${value.apiVersion}/${value.kind}`
    if (!isChildType(value)) throw new HookError('RenderFailed', `the chart rendered ${type}, which is not a declared child type`)
    const key = `${type}/${value.metadata.name}`
    if (seen.has(key)) throw new HookError('RenderFailed', `the chart rendered ${key} twice`)
    seen.add(key)
    children.push(value)
  }
  if (!children.some((c) => c.kind === 'StatefulSet' && c.metadata.name === statefulSetName)) {
    throw new HookError('RenderFailed', `the chart rendered no StatefulSet named ${statefulSetName}`)
  }
  return sortChildren(children)
}
