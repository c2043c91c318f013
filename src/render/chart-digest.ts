// A digest of every file of the chart, read once at start: part of the render cache key, so a new
// chart never serves renders of the old one.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? files(join(dir, e.name)) : Promise.resolve(e.isFile() ? [join(dir, e.name)] : []))))
  return nested.flat()
}

export async function chartDigest(chartPath: string): Promise<string> {
  const paths = (await files(chartPath)).sort()
  const hash = createHash('sha256')
  for (const path of paths) {
    hash.update(relative(chartPath, path)).update('\0').update(await readFile(path)).update('\0')
  }
  return hash.digest('hex')
}
