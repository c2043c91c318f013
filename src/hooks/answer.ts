// The response body Metacontroller reads. Rendered children arrive as cached JSON text and are
// spliced in as they are, so a warm sync never re-serializes them.
import type { FinalizeResponse, KubeObject } from '../api/hook-request.js'

/** A response before serialization: children may still be the renderer's cached JSON array. */
export type HookAnswer = Omit<FinalizeResponse, 'children' | 'finalized'> & {
  children: KubeObject[] | { json: string }
  finalized?: boolean
}

/** The answer as JSON with exactly the fields Metacontroller's v2 decoder accepts. */
export function answerJson(answer: HookAnswer): string {
  const children = Array.isArray(answer.children) ? JSON.stringify(answer.children) : answer.children.json
  let body = `{"status":${JSON.stringify(answer.status)},"children":${children}`
  if (answer.resyncAfterSeconds !== undefined) body += `,"resyncAfterSeconds":${answer.resyncAfterSeconds}`
  if (answer.finalized !== undefined) body += `,"finalized":${answer.finalized}`
  return `${body}}`
}
